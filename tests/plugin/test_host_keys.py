"""A secret per account: each account's own host key opens that account only, the shared secret opens
only the accounts without one, rotation keeps the old key for its overlap, and each signed request id
is served once. Both databases (the ``database`` fixture); two accounts throughout."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import event, func, select

from bridge.accounts import host_keys, request_ids
from bridge.config import Settings
from bridge.db import Database
from bridge.models import FeedToken, LmsUser, UsedRequest, utcnow
from bridge.worker import jobs
from plugin.host import FEED_ADDRESS_PATH, USER_STATE_PATH, HostClient, dumps, launch_url
from tests.plugin.conftest import HOST_SECRET

A, B = "org-a", "org-b"
USER = {"id": "u1", "email": "u1@contoso.example", "name": "Ada", "active": True, "role": "learner",
        "timezone": None, "version": 1}


def make_key(database: Database, settings: Settings, account: str, overlap: timedelta = timedelta(0)) -> HostClient:
    """A host key for ``account``, returned as a host that signs with it."""
    with database.session() as session:
        key, secret = host_keys.create(session, settings.secret_key, account, utcnow(), overlap)
    return HostClient("http://localhost", secret, key_id=key.id)


def post(client: FlaskClient, signer: HostClient, path: str, body: Any) -> Any:
    raw = dumps(body)
    return client.post(path, data=raw, headers=signer.signed_headers(raw))


def requests_for(signer: HostClient, account: str) -> dict[str, Any]:
    """One body per signed route, each naming ``account``."""
    return {
        "/hooks": signer.delivery("user.upserted", account, USER),
        "/hooks/batch": {"deliveries": [signer.delivery("user.upserted", account, USER)]},
        FEED_ADDRESS_PATH: signer.feed_request(account, "u1", "rotate"),
        USER_STATE_PATH: {"account": account, "user_id": "u1", "request_id": "state-1"},
    }


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("outlook_sync_hooks_refused_total", {"reason": reason}) or 0


def stored(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {"users": session.scalar(select(func.count()).select_from(LmsUser)) or 0,
                "tokens": session.scalar(select(func.count()).select_from(FeedToken)) or 0,
                "request ids": session.scalar(select(func.count()).select_from(UsedRequest)) or 0}


@pytest.fixture
def seeded(client: FlaskClient, host: HostClient) -> None:
    """Both accounts know user u1 (sent under the shared secret, before either has a key)."""
    for account in (A, B):
        assert post(client, host, "/hooks", host.delivery("user.upserted", account, USER)).status_code == 202


@pytest.mark.parametrize("path", ["/hooks", "/hooks/batch", FEED_ADDRESS_PATH, USER_STATE_PATH])
def test_a_key_of_one_account_is_refused_for_another(client: FlaskClient, database: Database, settings: Settings,
                                                     seeded: None, path: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    a_host = make_key(database, settings, A)
    make_key(database, settings, B)
    before, counted = stored(database), refusals("wrong_account")
    with caplog.at_level(logging.WARNING, logger="plugin.signed"):
        answer = post(client, a_host, path, requests_for(a_host, B)[path])
    assert answer.status_code == 403, answer.get_data(as_text=True)
    assert refusals("wrong_account") == counted + 1
    assert a_host.key_id in answer.json["error"] and repr(B) in answer.json["error"]
    assert stored(database) == before
    [line] = [r.getMessage() for r in caplog.records if r.name == "plugin.signed"]
    assert f"for account {B!r}" in line and str(a_host.key_id) in line and a_host._secret not in line
    assert post(client, a_host, path, requests_for(a_host, A)[path]).status_code in (200, 202)


def test_a_batch_naming_another_account_among_its_own_is_refused_whole(
        client: FlaskClient, database: Database, settings: Settings, seeded: None) -> None:
    a_host = make_key(database, settings, A)
    before = stored(database)
    mixed = [a_host.delivery("user.upserted", A, {**USER, "id": "u2"}), a_host.delivery("user.upserted", B, USER)]
    assert post(client, a_host, "/hooks/batch", {"deliveries": mixed}).status_code == 403
    assert stored(database) == before


@pytest.mark.parametrize("path", ["/hooks", "/hooks/batch", FEED_ADDRESS_PATH, USER_STATE_PATH])
def test_the_shared_secret_is_refused_for_an_account_with_its_own_key(
        client: FlaskClient, database: Database, settings: Settings, host: HostClient, seeded: None,
        path: str) -> None:
    make_key(database, settings, A)
    answer = post(client, host, path, requests_for(host, A)[path])
    assert answer.status_code == 403 and "has its own host key" in answer.json["error"]
    assert post(client, host, path, requests_for(host, B)[path]).status_code in (200, 202)  # B has none


@pytest.mark.parametrize("keyed", [False, True], ids=["shared secret", "own key"])
@pytest.mark.parametrize("path", ["/hooks", "/hooks/batch"])
def test_a_hook_is_checked_and_stored_in_one_transaction(client: FlaskClient, database: Database,
                                                         settings: Settings, host: HostClient, seeded: None,
                                                         keyed: bool, path: str) -> None:
    """The signer's key and accounts are checked in the transaction that stores the delivery: one
    connection checkout and one transaction per request, refused or applied."""
    signer = make_key(database, settings, A) if keyed else host
    counts = {"checkout": 0, "begin": 0}

    def counted(name: str) -> Any:
        return lambda *_: counts.__setitem__(name, counts[name] + 1)

    for name in counts:
        event.listen(database.engine, name, counted(name))
    wanted = {"/hooks": signer.delivery("user.upserted", A, {**USER, "version": 2}),
              "/hooks/batch": {"deliveries": [signer.delivery("user.upserted", A, {**USER, "version": 2})]}}[path]
    assert post(client, signer, path, wanted).status_code == 202
    assert counts == {"checkout": 1, "begin": 1}
    refused = requests_for(signer, B)[path]  # another account's (or, for the shared secret, a keyed one's)
    if not keyed:
        make_key(database, settings, B)
    counts.update(checkout=0, begin=0)
    assert post(client, signer, path, refused).status_code == 403
    assert counts == {"checkout": 1, "begin": 1}


def test_launches_follow_the_same_rule(client: FlaskClient, database: Database, settings: Settings,
                                       caplog: pytest.LogCaptureFixture) -> None:
    a_host = make_key(database, settings, A)

    def opened(secret: str, account: str, key: str | None) -> int:
        url = launch_url("http://localhost", secret, account, "u-owner", "owner", key_id=key)
        parts = urlsplit(url)
        return client.get(f"{parts.path}?{parts.query}").status_code

    with caplog.at_level(logging.WARNING, logger="plugin.signed"):
        assert opened(a_host._secret, B, a_host.key_id) == 403  # A's key, B's owner
    assert any(f"for account {B!r}" in r.getMessage() for r in caplog.records)
    assert opened(HOST_SECRET, A, None) == 403  # the shared secret, for an account with a key
    assert opened(HOST_SECRET, A, a_host.key_id) == 403  # the shared secret under A's key's name
    assert opened(a_host._secret, A, a_host.key_id) == 303
    assert opened(HOST_SECRET, B, None) == 303  # B has no key: the shared secret still opens it


def test_rotation_keeps_the_old_key_for_its_overlap_then_only_the_new(
        client: FlaskClient, database: Database, settings: Settings, seeded: None) -> None:
    old = make_key(database, settings, A)
    new = make_key(database, settings, A, overlap=timedelta(hours=1))
    for signer in (old, new):  # both work during the overlap
        assert post(client, signer, "/hooks", signer.delivery("user.upserted", A, USER)).status_code in (200, 202)
    later = utcnow() + timedelta(hours=1, seconds=1)
    with database.session() as session:
        assert host_keys.working_secret(session, settings.secret_key, str(old.key_id), later) is None
        assert host_keys.working_secret(session, settings.secret_key, str(new.key_id), later) == (A, new._secret)
        host_keys.revoke(session, A, str(old.key_id), utcnow())
    refused = post(client, old, "/hooks", old.delivery("user.upserted", A, USER))
    assert refused.status_code == 401 and "X-Hook-Key" in refused.json["error"]
    assert post(client, new, "/hooks", new.delivery("user.upserted", A, USER)).status_code in (200, 202)


def test_a_rotation_with_no_overlap_ends_the_old_key_at_once(database: Database, settings: Settings) -> None:
    old = make_key(database, settings, A)
    make_key(database, settings, A)
    with database.session() as session:
        assert host_keys.working_secret(session, settings.secret_key, str(old.key_id), utcnow()) is None
        with pytest.raises(host_keys.UnknownKey):
            host_keys.revoke(session, B, str(old.key_id), utcnow())  # not B's key to revoke


def test_a_key_sealed_under_another_secret_key_is_refused_and_logged_without_its_secret(
        client: FlaskClient, database: Database, seeded: None, caplog: pytest.LogCaptureFixture) -> None:
    with database.session() as session:
        key, secret = host_keys.create(session, "another-secret-key-0123456789", A, utcnow(), timedelta(0))
    signer = HostClient("http://localhost", secret, key_id=key.id)
    with caplog.at_level(logging.WARNING):
        assert post(client, signer, "/hooks", signer.delivery("user.upserted", A, USER)).status_code == 401
    assert any("cannot be unsealed" in r.getMessage() for r in caplog.records)
    assert all(secret not in r.getMessage() for r in caplog.records)
    with database.session() as session:
        [row] = session.scalars(select(host_keys.HostKey)).all()
        assert secret not in row.sealed


def test_a_replayed_rotate_changes_nothing(client: FlaskClient, host: HostClient, database: Database,
                                           seeded: None) -> None:
    body = dumps(host.feed_request(B, "u1", "rotate", request_id="rotate-1"))
    headers = host.signed_headers(body)
    first = client.post(FEED_ADDRESS_PATH, data=body, headers=headers)
    assert first.status_code == 200 and first.json["url"]
    counted = refusals("repeated_request")
    replay = client.post(FEED_ADDRESS_PATH, data=body, headers=headers)
    assert replay.status_code == 409, replay.get_data(as_text=True)
    assert refusals("repeated_request") == counted + 1
    assert replay.json["request_id"] == "rotate-1" and "already served" in replay.json["error"]
    feed = client.get(urlsplit(first.json["url"]).path)
    assert feed.status_code == 200  # the address the first request made still works
    assert post(client, host, FEED_ADDRESS_PATH, host.feed_request(A, "u1", request_id="rotate-1")).status_code == 200


def test_a_replayed_user_state_request_is_answered_as_a_repeat(client: FlaskClient, host: HostClient,
                                                              seeded: None) -> None:
    body = {"account": A, "user_id": "u1", "request_id": "state-7"}
    assert post(client, host, USER_STATE_PATH, body).status_code == 200
    again = post(client, host, USER_STATE_PATH, body)
    assert (again.status_code, again.json["request_id"]) == (409, "state-7")


def test_a_request_without_a_request_id_is_refused_naming_it(client: FlaskClient, host: HostClient,
                                                             seeded: None) -> None:
    for path in (FEED_ADDRESS_PATH, USER_STATE_PATH):
        answer = post(client, host, path, {"account": A, "user_id": "u1"})
        assert answer.status_code == 400 and "request_id" in answer.json["fields"]


def test_request_ids_are_kept_through_the_signature_window_then_forgotten(database: Database) -> None:
    now = utcnow()
    with database.session() as session:
        request_ids.record_once(session, A, "r-old", now - timedelta(seconds=1))
        request_ids.record_once(session, A, "r-new", now + timedelta(minutes=11))
    jobs.forget_request_ids(database, now)
    with database.session() as session:
        assert list(session.scalars(select(UsedRequest.id))) == ["r-new"]
        with pytest.raises(request_ids.Repeated):
            request_ids.record_once(session, A, "r-new", now)

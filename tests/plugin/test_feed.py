"""The calendar feed end to end: hooks in, the signed address call, GET /feeds/<token>.ics read by vobject."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import event, select

from bridge.codes import FeedMode
from bridge.config import Settings
from bridge.db import Database
from bridge.feeds import ical
from bridge.feeds import service as feed_service
from bridge.lms import settings as account_settings
from bridge.models import Connection, FeedItem
from plugin.contract.feed_schemas import ACTIONS
from plugin.contract.openapi import SIGNED, document
from plugin.host import FEED_ADDRESS_PATH, HostClient
from tests.feed_support import ZONES, around_transitions, parse
from tests.plugin.test_host import live_url  # noqa: F401  (the fixture: the app on a loopback port)

Post = Callable[..., Any]
ACCOUNT = "acme"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def lms(post: Post, host: HostClient) -> Callable[..., None]:
    """Deliver one change through the signed hook endpoint."""

    def deliver(topic: str, **data: Any) -> None:
        response = post("/hooks", host.delivery(topic, ACCOUNT, data))
        assert response.status_code in (200, 202), response.json

    return deliver


def user(lms: Callable[..., None], user_id: str, email: str, version: int = 1, active: bool = True) -> None:
    lms("user.upserted", id=user_id, email=email, name=user_id.title(), active=active, role="learner",
        timezone=None, version=version)


def event_with(lms: Callable[..., None], event_id: str, zone: str, starts: list[datetime], version: int = 1,
               organizer: str | None = "teacher", **fields: Any) -> None:
    sessions = [{"id": f"{event_id}-s{n}", "start": s, "end": s + timedelta(hours=1)} for n, s in enumerate(starts)]
    lms("event.upserted", **{"id": event_id, "title": f"Course {event_id}", "organizer_id": organizer,
                             "timezone": zone, "cancelled": False, "sessions": sessions, "version": version,
                             "url": f"https://lms.example.com/{event_id}", **fields})


def enroll(lms: Callable[..., None], user_id: str, event_id: str, session: int | None, version: int = 1) -> None:
    lms("enrollment.upserted", event_id=event_id, user_id=user_id,
        session_id=None if session is None else f"{event_id}-s{session}", version=version)


@pytest.fixture
def address(post: Post) -> Callable[..., Any]:
    """The signed host call; returns the JSON answer (asserting 200)."""

    def ask(user_id: str, action: str = "get") -> Any:
        response = post(FEED_ADDRESS_PATH, HostClient.feed_request(ACCOUNT, user_id, action))
        assert response.status_code == 200, response.json
        return response.json

    return ask


def ada_in_one_session(lms: Callable[..., None], address: Callable[..., Any]) -> str:
    """Ada (a Gmail learner) in the one session of e1, two days ahead; her feed's address."""
    user(lms, "ada", "ada@gmail.com")
    event_with(lms, "e1", "Europe/Berlin", [NOW + timedelta(days=2)])
    enroll(lms, "ada", "e1", 0)
    return str(address("ada")["url"])


def path_of(url: str) -> str:
    return urlsplit(url).path


def fetch(client: FlaskClient, url: str) -> dict[str, Any]:
    response = client.get(path_of(url))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    _, events = parse(response.data)
    return events


def test_gmail_learner_gets_exactly_their_future_sessions_at_the_right_instants_across_dst(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient
) -> None:
    user(lms, "ada", "ada@gmail.com")
    user(lms, "bob", "bob@gmail.com")
    expected: list[datetime] = []
    for zone in ZONES:
        for n, start in enumerate(around_transitions(zone, NOW + timedelta(days=1), count=2)):
            event_id = f"{zone.replace('/', '-')}-{n}"
            event_with(lms, event_id, zone, [start, start + timedelta(days=3)])  # two sessions: she chose one
            enroll(lms, "ada", event_id, 0)
            enroll(lms, "bob", event_id, 1)
            expected.append(start)
    event_with(lms, "past", "Europe/Berlin", [NOW - timedelta(days=2)])  # ended: not in the feed
    enroll(lms, "ada", "past", 0)
    event_with(lms, "undecided", "Europe/Berlin", [NOW + timedelta(days=5)])  # no session chosen: nothing
    enroll(lms, "ada", "undecided", None)
    event_with(lms, "hers", "Australia/Sydney", [NOW + timedelta(days=9), NOW + timedelta(days=10)], organizer="ada")
    expected += [NOW + timedelta(days=9), NOW + timedelta(days=10)]

    answer = address("ada")
    assert answer["offered"] is True and answer["reason"] == "personal_email"
    assert answer["url"].endswith(".ics") and answer["webcal_url"].startswith("webcal://")
    events = fetch(client, answer["url"])
    assert sorted(e.start for e in events.values()) == sorted(expected)
    assert all(e.end - e.start == timedelta(hours=1) for e in events.values())
    assert all(e.status == "CONFIRMED" and e.sequence == 0 and e.alarm_minutes == 15 for e in events.values())
    assert len(events) == len(expected) == 8 * len(ZONES) + 2  # 4 instants around each of 2 changes a zone


def test_moved_session_keeps_its_uid_and_raises_sequence(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient
) -> None:
    user(lms, "ada", "ada@gmail.com")
    start = NOW + timedelta(days=4)
    event_with(lms, "e1", "America/New_York", [start])
    enroll(lms, "ada", "e1", 0)
    url = address("ada")["url"]
    [before] = fetch(client, url).values()
    assert [e.sequence for e in fetch(client, url).values()] == [before.sequence]  # no change, no new number

    event_with(lms, "e1", "America/New_York", [start + timedelta(hours=2)], version=2)
    [after] = fetch(client, url).values()
    assert after.uid == before.uid
    assert after.sequence == before.sequence + 1
    assert after.start == start + timedelta(hours=2)
    assert after.last_modified >= before.last_modified

    event_with(lms, "e1", "America/New_York", [start + timedelta(hours=2)], version=3, location="Room 9")
    [again] = fetch(client, url).values()
    assert (again.uid, again.sequence, again.location) == (before.uid, before.sequence + 2, "Room 9")


def test_unassigned_session_turns_cancelled_until_it_ends(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient, database: Database
) -> None:
    user(lms, "ada", "ada@gmail.com")
    start = NOW + timedelta(days=2)
    event_with(lms, "e1", "Europe/Berlin", [start])
    event_with(lms, "e2", "Europe/Berlin", [start + timedelta(days=1)])
    enroll(lms, "ada", "e1", 0)
    enroll(lms, "ada", "e2", 0)
    url = address("ada")["url"]
    before = fetch(client, url)

    lms("enrollment.deleted", event_id="e1", user_id="ada", version=2)
    after = fetch(client, url)
    assert set(after) == set(before)  # still listed, so subscribed calendars remove it
    gone = next(e for e in after.values() if e.start == start)
    kept = next(e for e in after.values() if e.start != start)
    assert gone.status == "CANCELLED" and gone.sequence == before[gone.uid].sequence + 1
    assert kept.status == "CONFIRMED" and kept.sequence == before[kept.uid].sequence

    token = path_of(url).rsplit("/", 1)[1].removesuffix(".ics")
    later = feed_service.fetch(database, token, lambda _: False, start + timedelta(hours=2))
    assert later is not None and later.body is not None
    _, events = parse(later.body)
    assert set(events) == {kept.uid}  # once its time has passed, the cancelled one is dropped


def test_rotated_token_old_url_answers_404(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient, database: Database
) -> None:
    user(lms, "ada", "ada@gmail.com")
    event_with(lms, "e1", "Europe/Berlin", [NOW + timedelta(days=2)])
    enroll(lms, "ada", "e1", 0)
    first = address("ada")
    second = address("ada")
    assert second["url"] is None and second["issued_at"] == first["issued_at"]  # shown once: only a hash is kept
    rotated = address("ada", "rotate")
    assert rotated["url"] != first["url"]
    assert client.get(path_of(first["url"])).status_code == 404
    assert len(fetch(client, rotated["url"])) == 1
    assert client.get(path_of(rotated["url"]).removesuffix(".ics")).status_code == 404
    assert address("ada", "revoke")["issued_at"] is None
    assert client.get(path_of(rotated["url"])).status_code == 404
    with database.session() as session:  # nothing kept of what the revoked feed listed
        assert session.scalars(select(FeedItem).where(FeedItem.user_id == "ada")).all() == []


def test_a_learners_url_never_shows_another_users_sessions(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient
) -> None:
    for n in range(3):
        user(lms, f"u{n}", f"u{n}@gmail.com")
        event_with(lms, f"e{n}", "Europe/Berlin", [NOW + timedelta(days=n + 1), NOW + timedelta(days=n + 8)])
        enroll(lms, f"u{n}", f"e{n}", 0)
    event_with(lms, "shared", "Europe/Berlin", [NOW + timedelta(days=20)])
    for n in range(3):
        enroll(lms, f"u{n}", "shared", 0)
    feeds = {n: fetch(client, address(f"u{n}")["url"]) for n in range(3)}
    for n, events in feeds.items():
        assert sorted(e.summary for e in events.values()) == sorted([f"Course e{n} — Session 1", "Course shared"])
        assert {e.start for e in events.values()} == {NOW + timedelta(days=n + 1), NOW + timedelta(days=20)}
    uids = [set(events) for events in feeds.values()]
    assert not (uids[0] & uids[1]) and not (uids[1] & uids[2]) and not (uids[0] & uids[2])


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


@pytest.mark.parametrize("token", [
    secrets.token_urlsafe(32),  # well formed, never issued
    "short", "x" * 43, "a" * 400, "%00", "..%2F..%2Fetc", "tok en", "ü" * 43, "a/b",
])
def test_unknown_or_malformed_token_answers_404_the_same_way(
    token: str, lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient, database: Database
) -> None:
    user(lms, "ada", "ada@gmail.com")
    address("ada")
    reference = client.get(f"/feeds/{secrets.token_urlsafe(32)}.ics")
    with statements(database) as seen:
        response = client.get(f"/feeds/{token}.ics")
        without_suffix = client.get(f"/feeds/{token}")
    assert response.status_code == 404
    assert response.data == reference.data and response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert b"ada" not in response.data
    # the same work whatever the token: one look-up by its hash
    assert without_suffix.status_code == 404 and without_suffix.data == reference.data
    assert len(seen) == 2 and all("token_hash" in s for s in seen)


def test_unchanged_feed_answers_304_without_building_it(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient, database: Database
) -> None:
    user(lms, "ada", "ada@gmail.com")
    event_with(lms, "e1", "Europe/Berlin", [NOW + timedelta(days=2)])
    enroll(lms, "ada", "e1", 0)
    path = path_of(address("ada")["url"])
    first = client.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    with statements(database) as seen:
        cached = client.get(path, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b"" and cached.headers["ETag"] == etag
    assert not any("feed_items" in s or "lms_sessions" in s for s in seen)  # nothing built
    assert client.get(path, headers={"If-None-Match": '"other"'}).data == first.data

    enroll(lms, "ada", "e1", None, version=2)  # her choice undone: the feed changes
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_reminder_follows_the_account_and_raises_sequence(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient, database: Database
) -> None:
    url = ada_in_one_session(lms, address)
    [before] = fetch(client, url).values()
    with database.session() as session:
        account_settings.set_reminder(session, ACCOUNT, 60)
    [after] = fetch(client, url).values()
    assert (before.alarm_minutes, after.alarm_minutes) == (15, 60) and after.sequence == before.sequence + 1


def test_who_is_offered_a_feed(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient, database: Database
) -> None:
    user(lms, "ada", "ada@gmail.com")
    user(lms, "cy", "cy@corp.example")
    user(lms, "dee", "dee@other.example")
    user(lms, "eve", "eve@gmail.com", active=False)
    with database.session() as session:
        session.add(Connection(account_id=ACCOUNT, state="connected", tenant_id="t1",
                               verified_domains=["corp.example"]))
    assert (address("ada")["offered"], address("ada")["reason"]) == (True, "personal_email")
    assert (address("dee")["offered"], address("dee")["reason"]) == (True, "domain_not_in_tenant")
    corporate = address("cy")
    assert (corporate["offered"], corporate["reason"], corporate["url"]) == (False, "in_outlook", None)
    assert (address("eve")["offered"], address("eve")["reason"]) == (False, "inactive")

    with database.session() as session:
        account_settings.set_feed_mode(session, ACCOUNT, FeedMode.EVERYONE)
    everyone = address("cy")
    assert (everyone["offered"], everyone["reason"]) == (True, "everyone") and everyone["url"]
    ada_url = address("ada", "rotate")["url"]
    assert client.get(path_of(ada_url)).status_code == 200

    with database.session() as session:
        account_settings.set_feed_mode(session, ACCOUNT, FeedMode.OFF)
    off = address("ada", "rotate")
    assert (off["offered"], off["reason"], off["url"]) == (False, "feeds_off", None)
    assert client.get(path_of(ada_url)).status_code == 404  # feeds off: no feed answers


def test_address_call_is_signed_and_validated(post: Post, lms: Callable[..., None], host: HostClient) -> None:
    user(lms, "ada", "ada@gmail.com")
    body = HostClient.feed_request(ACCOUNT, "ada")
    assert post(FEED_ADDRESS_PATH, body, headers={"Content-Type": "application/json"}).status_code == 401
    bad = post(FEED_ADDRESS_PATH, {"account": ACCOUNT, "user_id": "", "action": "steal", "extra": 1,
                                   "request_id": "has spaces"})
    assert bad.status_code == 400
    assert set(bad.json["fields"]) == {"user_id", "action", "extra", "request_id"}
    missing = post(FEED_ADDRESS_PATH, HostClient.feed_request(ACCOUNT, "nobody"))
    assert missing.status_code == 404 and "no such user" in missing.json["error"]
    other_account = post(FEED_ADDRESS_PATH, HostClient.feed_request("other", "ada"))
    assert other_account.status_code == 404


def test_inactive_learner_feed_cancels_their_sessions(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient
) -> None:
    url = ada_in_one_session(lms, address)
    assert [e.status for e in fetch(client, url).values()] == ["CONFIRMED"]
    user(lms, "ada", "ada@gmail.com", version=2, active=False)
    assert [e.status for e in fetch(client, url).values()] == ["CANCELLED"]


def test_a_deleted_users_feed_ends_like_an_unknown_one(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient, database: Database
) -> None:
    url = ada_in_one_session(lms, address)
    assert [e.status for e in fetch(client, url).values()] == ["CONFIRMED"]
    lms("user.deleted", id="ada", version=2)
    gone, unknown = client.get(path_of(url)), client.get(f"/feeds/{secrets.token_urlsafe(32)}.ics")
    assert (gone.status_code, gone.data) == (unknown.status_code, unknown.data) == (404, unknown.data)
    user(lms, "ada", "ada@gmail.com", version=3)  # back in the LMS: the old address stays ended
    assert client.get(path_of(url)).status_code == 404
    with database.session() as session:
        assert session.scalars(select(FeedItem).where(FeedItem.user_id == "ada")).all() == []


def test_feed_uid_is_the_one_the_bridge_names() -> None:
    assert ical.uid(ACCOUNT, "ada", "e1", "e1-s0").endswith("@" + ical.UID_DOMAIN)


def test_host_helper_asks_over_http_and_the_feed_is_served(
    request: pytest.FixtureRequest, settings: Settings, lms: Callable[..., None]
) -> None:
    base = request.getfixturevalue("live_url")
    user(lms, "ada", "ada@gmail.com")
    event_with(lms, "e1", "Australia/Sydney", [NOW + timedelta(days=3)])
    enroll(lms, "ada", "e1", 0)
    host = HostClient(base, settings.host_secret)
    answer = host.feed_address(ACCOUNT, "ada")
    assert answer.status_code == 200 and answer.json()["offered"] is True
    served = requests.get(base + path_of(answer.json()["url"]), timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"] == "text/calendar; charset=utf-8"
    [only] = parse(served.content)[1].values()
    assert only.start == NOW + timedelta(days=3)
    again = requests.get(served.url, headers={"If-None-Match": served.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    assert HostClient(base, "not-the-host-secret").feed_address(ACCOUNT, "ada").status_code == 401


def test_openapi_documents_the_feed_address_call() -> None:
    spec = document("0.1.0")
    operation = spec["paths"][FEED_ADDRESS_PATH]["post"]
    assert operation["security"] == SIGNED and set(operation["responses"]) == {"200", "400", "401", "403", "404", "409"}
    assert "request_id" in spec["components"]["schemas"]["AddressRequest"]["required"]
    assert spec["components"]["schemas"]["AddressRequest"]["properties"]["action"]["enum"] == list(ACTIONS)
    assert set(spec["paths"]["/feeds/{token}.ics"]["get"]["responses"]) == {"200", "304", "404"}


def test_feed_tokens_are_blanked_in_request_logs(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    token = secrets.token_urlsafe(32)
    logger = logging.getLogger("werkzeug")
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('127.0.0.1 - - "GET /feeds/%s.ics HTTP/1.1" 200 -', token)
    assert token not in caplog.text and "/feeds/[redacted].ics" in caplog.text


def test_a_deadline_is_a_transparent_instant_at_the_learners_own_due_time(
    lms: Callable[..., None], address: Callable[..., Any], client: FlaskClient
) -> None:
    user(lms, "ada", "ada@gmail.com")
    due = NOW + timedelta(days=3)
    lms("deadline.upserted", id="a1", title="Essay", url="https://lms.example/a1", due=due.isoformat(),
        timezone="Europe/Berlin", version=1)
    lms("learner_deadline.upserted", deadline_id="a1", user_id="ada", due=None, done=False, version=1)
    url = address("ada")["url"]
    body = client.get(path_of(url)).data
    [before] = fetch(client, url).values()
    assert (before.summary, before.start, before.end, before.alarm_minutes) == ("Due: Essay", due, due, 24 * 60)
    assert b"TRANSP:TRANSPARENT" in body and b"TRANSP:OPAQUE" not in body

    lms("learner_deadline.upserted", deadline_id="a1", user_id="ada", due=(due + timedelta(days=2)).isoformat(),
        done=False, version=2)  # an extension
    [after] = fetch(client, url).values()
    assert (after.uid, after.sequence, after.start) == (before.uid, before.sequence + 1, due + timedelta(days=2))

    lms("learner_deadline.upserted", deadline_id="a1", user_id="ada", due=None, done=True, version=3)  # handed in
    [done] = fetch(client, url).values()
    assert (done.uid, done.status) == (before.uid, "CANCELLED")

"""POST /hooks: signed, validated, stored once, in one transaction; refusals store nothing."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bridge.config import Settings
from bridge.db import Database
from bridge.lms.ingest import apply_delivery
from bridge.models import Delivery, DirtyKey, LmsEnrollment, LmsEvent, LmsSession, LmsUser
from plugin import create_app
from plugin.app import create_ops_app
from plugin.hooks import views as hooks
from plugin.host import HostClient, dumps
from plugin.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

Post = Callable[..., Any]
Sample = Callable[..., dict[str, Any]]
Counts = Callable[[], dict[str, int]]


def nothing_stored(row_counts: Counts) -> bool:
    return not any(row_counts().values())


def test_applied_delivery_is_stored_and_marks_the_user(
    post: Post, host: HostClient, sample: Sample, database: Database
) -> None:
    delivery = host.delivery("user.upserted", "acme", sample("user.upserted"))
    response = post("/hooks", delivery)
    assert response.status_code == 202
    assert response.json == {"id": delivery["id"], "status": "applied"}
    with database.session() as session:
        user = session.get(LmsUser, ("acme", "u1"))
        assert user is not None and (user.email, user.active, user.version) == ("ada@example.com", True, 1)
        assert session.get(DirtyKey, ("acme", "u1")) is not None


def test_event_with_sessions_is_stored_as_instants(
    post: Post, host: HostClient, sample: Sample, database: Database
) -> None:
    response = post("/hooks", host.delivery("event.upserted", "acme", sample("event.upserted")))
    assert response.status_code == 202
    with database.session() as session:
        starts = session.scalars(select(LmsSession.start).order_by(LmsSession.position)).all()
    assert [s.isoformat() for s in starts] == ["2030-03-30T07:00:00+00:00", "2030-03-31T07:00:00+00:00"]


def test_repeated_delivery_id_is_acknowledged_not_applied_twice(
    post: Post, host: HostClient, sample: Sample, database: Database
) -> None:
    first = host.delivery("user.upserted", "acme", sample("user.upserted"))
    assert post("/hooks", first).status_code == 202
    again = {**first, "data": sample("user.upserted", name="Changed", version=5)}
    response = post("/hooks", again)
    assert response.status_code == 200
    assert response.json == {"id": first["id"], "status": "duplicate"}
    with database.session() as session:
        user = session.get(LmsUser, ("acme", "u1"))
        assert user is not None and (user.name, user.version) == ("Ada Lovelace", 1)
        assert len(session.scalars(select(Delivery)).all()) == 1


def test_older_version_is_acknowledged_as_stale(
    post: Post, host: HostClient, sample: Sample, database: Database
) -> None:
    current = host.delivery("user.upserted", "acme", sample("user.upserted", version=7))
    assert post("/hooks", current).status_code == 202
    for version in (7, 6):
        stale = host.delivery("user.upserted", "acme", sample("user.upserted", name="Old", version=version))
        response = post("/hooks", stale)
        assert (response.status_code, response.json["status"]) == (200, "stale")
    newer = host.delivery("user.upserted", "acme", sample("user.upserted", name="New", version=8))
    assert post("/hooks", newer).status_code == 202
    with database.session() as session:
        user = session.get(LmsUser, ("acme", "u1"))
        assert user is not None and (user.name, user.version) == ("New", 8)


def test_enrollment_before_its_user_and_event_is_kept(
    post: Post, host: HostClient, sample: Sample, database: Database
) -> None:
    for topic in ("enrollment.upserted", "event.upserted", "user.upserted"):
        assert post("/hooks", host.delivery(topic, "acme", sample(topic))).status_code == 202
    with database.session() as session:
        enrollment = session.get(LmsEnrollment, ("acme", "e1", "u1"))
        assert enrollment is not None and enrollment.session_id == "s1"
        assert session.get(LmsEvent, ("acme", "e1")) is not None


def test_delete_arriving_before_the_upsert_wins(
    post: Post, host: HostClient, sample: Sample, database: Database
) -> None:
    assert post("/hooks", host.delivery("event.deleted", "acme", sample("event.deleted"))).status_code == 202
    late = post("/hooks", host.delivery("event.upserted", "acme", sample("event.upserted")))
    assert late.json["status"] == "stale"
    with database.session() as session:
        event = session.get(LmsEvent, ("acme", "e1"))
        assert event is not None and event.deleted


def _signed(body: bytes, timestamp: int, secret: str) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


@pytest.mark.parametrize(
    ("make_headers", "message"),
    [
        (lambda body, now, secret: {}, "missing X-Hook-Timestamp"),
        (lambda body, now, secret: {TIMESTAMP_HEADER: str(now)}, "missing X-Hook-Signature"),
        (lambda body, now, secret: {**_signed(body, now, secret), SIGNATURE_HEADER: "sha256=" + "0" * 64},
         "does not match"),
        (lambda body, now, secret: _signed(body, now, secret="guessed-secret-guessed"), "does not match"),
        (lambda body, now, secret: _signed(body + b" ", now, secret), "does not match"),
        (lambda body, now, secret: _signed(body, now - 310, secret), "more than 300 s"),
        (lambda body, now, secret: _signed(body, now + 310, secret), "more than 300 s"),
        (lambda body, now, secret: {**_signed(body, now, secret), TIMESTAMP_HEADER: "soon"},
         "malformed X-Hook-Timestamp"),
    ],
)
def test_unsigned_delivery_is_refused_and_nothing_stored(
    post: Post, host: HostClient, sample: Sample, row_counts: Counts,
    settings: Settings, make_headers: Callable[[bytes, int, str], dict[str, str]], message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = dumps(host.delivery("user.upserted", "acme", sample("user.upserted")))
    headers = make_headers(body, int(time.time()), settings.host_secret)
    response = post("/hooks", body, headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    assert message in response.json["error"]
    secrets = [settings.host_secret, *([headers[SIGNATURE_HEADER]] if SIGNATURE_HEADER in headers else [])]
    for secret in secrets:
        assert secret not in response.get_data(as_text=True) and secret not in caplog.text
    assert nothing_stored(row_counts)


def test_invalid_delivery_lists_fields_and_stores_nothing(
    post: Post, host: HostClient, sample: Sample, row_counts: Counts
) -> None:
    data = sample("event.upserted")
    data["sessions"][1]["end"] = "2030-03-31T06:00:00Z"
    data["title"] = ""
    response = post("/hooks", {**host.delivery("event.upserted", "acme", data), "extra": 1})
    assert response.status_code == 400
    assert response.json["error"] == "invalid delivery"
    assert set(response.json["fields"]) == {"data.sessions.1.end", "data.title", "extra"}
    assert nothing_stored(row_counts)


NOT_JSON = [b"", b"{", b'{"id": NaN}', b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe\xfa"]


@pytest.mark.parametrize("body", NOT_JSON)
def test_body_that_is_not_json_is_refused(post: Post, row_counts: Counts, body: bytes) -> None:
    response = post("/hooks", body)
    assert response.status_code == 400
    assert response.json["error"] == "invalid JSON"
    assert list(response.json["fields"]) == ["$"]
    assert nothing_stored(row_counts)


def test_body_over_one_mebibyte_is_refused(
    post: Post, host: HostClient, sample: Sample, row_counts: Counts
) -> None:
    big = host.delivery("event.upserted", "acme", sample("event.upserted", description="x" * (1024 * 1024)))
    response = post("/hooks", big)
    assert response.status_code == 413
    assert "larger than" in response.json["error"]
    assert nothing_stored(row_counts)


def test_get_is_not_a_delivery(client: FlaskClient) -> None:
    assert client.get("/hooks").status_code == 405


def test_unreachable_database_answers_503_with_retry_after(
    settings: Settings, host: HostClient, sample: Sample
) -> None:
    offline = Database("postgresql+psycopg://postgres@127.0.0.1:9/absent", connect_args={"connect_timeout": 2})
    app = create_app(settings, offline)
    refused = REGISTRY.get_sample_value("outlook_sync_hooks_refused_total", {"reason": "database_unavailable"}) or 0
    body = dumps(host.delivery("user.upserted", "acme", sample("user.upserted")))
    response = app.test_client().post("/hooks", data=body, headers=host.signed_headers(body))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json == {"error": "database unavailable; nothing was stored, retry later"}
    assert create_ops_app(settings, offline).test_client().get("/readyz").status_code == 503
    assert (REGISTRY.get_sample_value("outlook_sync_hooks_refused_total", {"reason": "database_unavailable"})
            or 0) - refused == 1


def test_failure_midway_through_a_batch_stores_nothing(
    post: Post, host: HostClient, sample: Sample, row_counts: Counts, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[str] = []

    def apply_then_fail(session: Any, delivery: dict[str, Any]) -> Any:
        if applied:
            raise OperationalError("INSERT ...", {}, Exception("server closed the connection"))
        applied.append(delivery["id"])
        return apply_delivery(session, delivery)

    monkeypatch.setattr(hooks, "apply_delivery", apply_then_fail)
    deliveries = [host.delivery(topic, "acme", sample(topic)) for topic in ("user.upserted", "event.upserted")]
    response = post("/hooks/batch", {"deliveries": deliveries})
    assert response.status_code == 503
    assert applied and not any(row_counts().values())

"""/healthz, /readyz and /metrics of one process (the several-process case: tests/integration/test_serve_metrics.py).

/readyz and /metrics are the operators' app's (create_ops_app); the public app answers /healthz only.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from bridge.config import Settings
from bridge.db import Database
from bridge.models import Account, Connection, utcnow
from bridge.queue import dirty_keys
from plugin import create_app
from plugin.app import create_ops_app
from plugin.host import HostClient, dumps
from plugin.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

Post = Callable[..., Any]
Sample = Callable[..., dict[str, Any]]


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of one /metrics answer, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def ops(settings: Settings, database: Database) -> FlaskClient:
    """The operators' app on the test's database."""
    return create_ops_app(settings, database).test_client()


def test_the_public_app_answers_healthz_and_not_readyz_or_metrics(client: FlaskClient, ops: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok", "version": "0.1.0"}
    assert client.get("/readyz").status_code == 404
    assert client.get("/metrics").status_code == 404
    assert ops.get("/healthz").status_code == 200
    assert ops.get("/readyz").status_code == 200
    assert ops.get("/metrics").status_code == 200
    assert ops.get("/integrations/outlook").status_code == 404  # nothing else is on the operators' listener
    assert ops.post("/hooks", data=b"{}").status_code in (404, 405, 413)


def test_healthz_answers_without_the_database(settings: Settings) -> None:
    offline = Database("postgresql+psycopg://postgres@127.0.0.1:9/absent", connect_args={"connect_timeout": 2})
    assert create_app(settings, offline).test_client().get("/healthz").status_code == 200
    client = create_ops_app(settings, offline).test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable"
    assert "database unreachable" in ready.json["reason"] and "OUTLOOK_SYNC_DATABASE_URL" in ready.json["reason"]


def test_readyz_needs_the_current_schema(ops: FlaskClient, settings: Settings, tmp_path: Path) -> None:
    assert ops.get("/readyz").json == {"status": "ready", "version": "0.1.0"}
    blank = Database(f"sqlite:///{tmp_path / 'blank.sqlite3'}")
    answer = create_ops_app(settings, blank).test_client().get("/readyz")
    blank.dispose()
    assert answer.status_code == 503
    assert answer.json["reason"].startswith("database schema is at no schema, expected ")
    assert answer.json["reason"].endswith("run outlook-sync migrate")


def test_hooks_are_counted_by_topic_and_outcome_and_refusals_by_reason(
    ops: FlaskClient, post: Post, host: HostClient, sample: Sample, settings: Settings
) -> None:
    before = scrape(ops)
    first = host.delivery("user.upserted", "acme", sample("user.upserted"))
    assert post("/hooks", first).status_code == 202
    assert post("/hooks", first).json["status"] == "duplicate"
    assert post("/hooks", host.delivery("user.upserted", "acme", sample("user.upserted"))).json["status"] == "stale"
    batch = {"deliveries": [host.delivery("event.upserted", "acme", sample("event.upserted")),
                            host.delivery("user.deleted", "acme", sample("user.deleted"))]}
    assert post("/hooks/batch", batch).status_code == 202
    body = dumps(host.delivery("user.upserted", "acme", sample("user.upserted")))
    assert post("/hooks", body, headers={**host.signed_headers(body), SIGNATURE_HEADER: "sha256=" + "0" * 64}
                ).status_code == 401
    old = int(time.time()) - 3600
    assert post("/hooks", body, headers={TIMESTAMP_HEADER: str(old), SIGNATURE_HEADER: sign(
        settings.host_secret, old, body)}).status_code == 401
    assert post("/hooks", b"x" * (2 * 1024 * 1024)).status_code == 413
    assert post("/hooks", {"id": "d-bad", "topic": "user.upserted"}).status_code == 400
    after = scrape(ops)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("outlook_sync_hooks_total", topic="user.upserted", outcome="applied") == 1
    assert grew("outlook_sync_hooks_total", topic="user.upserted", outcome="duplicate") == 1
    assert grew("outlook_sync_hooks_total", topic="user.upserted", outcome="stale") == 1
    assert grew("outlook_sync_hooks_total", topic="event.upserted", outcome="applied") == 1
    assert grew("outlook_sync_hooks_total", topic="user.deleted", outcome="applied") == 1
    for reason in ("bad_signature", "stale_timestamp", "too_large", "invalid_body"):
        assert grew("outlook_sync_hooks_refused_total", reason=reason) == 1, reason
    assert grew("outlook_sync_hook_ingest_seconds_count") == 8  # every POST answered, refusals included
    assert grew("outlook_sync_hook_ingest_seconds_sum") > 0


def test_work_waiting_its_age_and_accounts_by_state_come_from_the_database(
    ops: FlaskClient, database: Database
) -> None:
    now = utcnow()
    with database.session() as session:
        session.add_all([Account(id=a) for a in ("on", "off", "new")])
        session.flush()
        session.add_all([Connection(account_id="on", state="connected"),
                         Connection(account_id="off", state="suspended")])
        dirty_keys.mark_dirty(session, "on", ["u1", "u2"], now=now - timedelta(seconds=90))
        dirty_keys.mark_dirty(session, "on", ["u3"], now=now + timedelta(hours=1))  # a retry later: waiting, not due
        dirty_keys.mark_dirty(session, "off", ["u9"], now=now - timedelta(hours=5))  # a suspended account's
    samples = scrape(ops)
    assert value(samples, "outlook_sync_database_up") == 1
    assert value(samples, "outlook_sync_work_waiting") == 3
    assert 90 <= value(samples, "outlook_sync_work_oldest_age_seconds") < 3600
    assert value(samples, "outlook_sync_accounts", state="connected") == 1
    assert value(samples, "outlook_sync_accounts", state="suspended") == 1
    assert value(samples, "outlook_sync_accounts", state="disconnected") == 1  # "new": no connection row
    assert value(samples, "outlook_sync_accounts", state="consent_pending") == 0
    assert ("outlook_sync_accounts", (("state", "consent_pending"),)) in samples


def test_metrics_without_the_database_say_so(settings: Settings) -> None:
    offline = Database("postgresql+psycopg://postgres@127.0.0.1:9/absent", connect_args={"connect_timeout": 2})
    samples = scrape(create_ops_app(settings, offline).test_client())
    assert value(samples, "outlook_sync_database_up") == 0
    assert not any(name == "outlook_sync_work_waiting" for name, _ in samples)

"""The health panel: the pure summariser, and its facts read from a real database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bridge.db import Database
from bridge.lms.ingest import ensure_account
from bridge.models import DirtyKey, Entry, LatencySample, UserState
from bridge.queue import dirty_keys
from bridge.sync import store
from bridge.trust import health

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("values", "p50", "p95"), [
    ([], None, None),
    ([3.0], 3.0, 3.0),
    ([float(n) for n in range(1, 101)], 50.0, 95.0),
    ([9.0, 1.0, 5.0, 2.0], 2.0, 9.0),
])
def test_percentiles(values: list[float], p50: float | None, p95: float | None) -> None:
    assert health.percentile(values, 0.5) == p50 and health.percentile(values, 0.95) == p95


def test_summary_ages_and_order() -> None:
    facts = health.HealthInputs(NOW - timedelta(minutes=3), 5, 2, NOW - timedelta(seconds=90), [1.0, 2.0, 3.0],
                                NOW - timedelta(hours=1), {"user_not_found": 1, "error": 4}, 1)
    h = health.summarise(facts, NOW)
    assert h.oldest_waiting_seconds == 90 and h.latency_p50 == 2.0 and h.latency_samples == 3
    assert list(h.failures) == ["error", "user_not_found"]


def entry(user_id: str, updated_at: datetime) -> Entry:
    return Entry(account_id="a", user_id=user_id, event_id="e", session_id="s", tenant_id="t", mailbox_id="m",
                 transaction_id="x", tag="g", state="active", starts_at=NOW, ends_at=NOW, updated_at=updated_at)


def test_latency_is_recorded_for_writes_only_and_kept_an_hour(database: Database) -> None:
    with database.session() as session:
        ensure_account(session, "a")
        dirty_keys.mark_dirty(session, "a", ["wrote", "idle"], now=NOW - timedelta(seconds=4))
        session.add(entry("wrote", NOW - timedelta(seconds=1)))
        session.add(entry("idle", NOW - timedelta(days=1)))
        session.add(LatencySample(account_id="a", settled_at=NOW - timedelta(hours=2), seconds=99.0))
        session.add(UserState(account_id="a", user_id="x", state="failed", reason="user_not_found"))
        session.execute(DirtyKey.__table__.update().where(DirtyKey.user_id == "idle")
                        .values(attempts=1, last_error="429 TooManyRequests: slow down"))
    with database.session() as session:
        claims = [dirty_keys.Claim("a", "wrote", 1, 0), dirty_keys.Claim("a", "idle", 1, 1)]  # as settled
        stored = store.record_latencies(session, "a", claims, NOW - timedelta(seconds=3), NOW)
    assert stored == 1
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(LatencySample)).scalar_one() == 1
        facts = health.facts(session, "a", NOW)
    assert facts.latencies == [pytest.approx(4.0, abs=1e-3)]  # a mark's n-th key is due n µs later
    assert facts.waiting == 2 and facts.retrying == 1 and facts.throttled == 1
    assert facts.oldest_due_at == NOW - timedelta(seconds=4)
    assert facts.failures == {"user_not_found": 1}

"""The dirty-key queue on SQLite and PostgreSQL: mark, claim under lease, complete, retry."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from bridge.db import Database
from bridge.lms.ingest import ensure_account
from bridge.models import Connection, DirtyKey, utcnow
from bridge.queue import dirty_keys, held_keys


def connected(database: Database, account: str = "acc") -> None:
    with database.session() as session:
        ensure_account(session, account)
        session.add(Connection(account_id=account, state="connected", tenant_id="t", failures=0))


def keys(database: Database) -> dict[str, DirtyKey]:
    with database.session() as session:
        return {k.user_id: k for k in session.scalars(select(DirtyKey))}


def test_marking_twice_bumps_the_generation(database: Database) -> None:
    connected(database)
    with database.session() as session:
        dirty_keys.mark_dirty(session, "acc", ["u1", "u2"])
    with database.session() as session:
        dirty_keys.mark_dirty(session, "acc", ["u1"])
    found = keys(database)
    assert found["u1"].generation == 2 and found["u2"].generation == 1


def test_a_bulk_mark_refreshes_the_queues_statistics(database: Database) -> None:
    """A mark of many keys ANALYZEs the queue on PostgreSQL (stale figures made every settling statement
    read all of the account's keys: docs/BENCHMARKS.md, B5); a few keys do not. SQLite: the keys are marked."""
    connected(database)
    few, many = dirty_keys.ANALYZE_AFTER - 1, dirty_keys.ANALYZE_AFTER
    counted = text("SELECT reltuples FROM pg_class WHERE relname = 'dirty_keys'")
    with database.session() as session:
        dirty_keys.mark_dirty(session, "acc", [f"a{i}" for i in range(few)])
    if database.is_postgresql:
        with database.session() as session:
            assert session.execute(counted).scalar_one() <= 0  # emptied by TRUNCATE, not analyzed since
    with database.session() as session:
        dirty_keys.mark_dirty(session, "acc", [f"b{i}" for i in range(many)])
    assert len(keys(database)) == few + many
    if database.is_postgresql:
        with database.session() as session:
            assert session.execute(counted).scalar_one() == few + many


def test_claim_takes_each_key_once_until_its_lease_ends(database: Database) -> None:
    connected(database)
    with database.session() as session:
        dirty_keys.mark_dirty(session, "acc", [f"u{i}" for i in range(5)])
    with database.session() as session:
        first = dirty_keys.claim(session, "w1", 3)
    with database.session() as session:
        second = dirty_keys.claim(session, "w2", 10)
    assert len(first) == 3 and len(second) == 2
    assert not {c.user_id for c in first} & {c.user_id for c in second}
    with database.session() as session:
        assert dirty_keys.claim(session, "w3", 10) == []
        later = dirty_keys.claim(session, "w3", 10, now=utcnow() + dirty_keys.LEASE + timedelta(seconds=1))
    assert len(later) == 5  # a dead worker's keys come back when its lease ends


def test_claim_skips_accounts_that_are_not_connected(database: Database) -> None:
    with database.session() as session:
        ensure_account(session, "idle")
        dirty_keys.mark_dirty(session, "idle", ["u1"])
    with database.session() as session:
        assert dirty_keys.claim(session, "w", 10) == []


def test_complete_keeps_a_key_marked_again_meanwhile(database: Database) -> None:
    connected(database)
    with database.session() as session:
        dirty_keys.mark_dirty(session, "acc", ["u1", "u2"])
    with database.session() as session:
        claims = {c.user_id: c for c in dirty_keys.claim(session, "w", 10)}
    with database.session() as session:
        dirty_keys.mark_dirty(session, "acc", ["u2"])  # a hook arrives while u2 is worked
    with database.session() as session:
        for claim in claims.values():
            held_keys.complete(session, claim, "w")
    found = keys(database)
    assert set(found) == {"u2"} and found["u2"].claimed_by is None


def test_retry_sets_due_time_and_counts_attempts(database: Database) -> None:
    connected(database)
    with database.session() as session:
        dirty_keys.mark_dirty(session, "acc", ["u1"])
    with database.session() as session:
        (claim,) = dirty_keys.claim(session, "w", 10)
    later = utcnow() + timedelta(minutes=5)
    with database.session() as session:
        held_keys.retry(session, claim, "w", later, "503 ServiceNotAvailable")
    key = keys(database)["u1"]
    assert key.attempts == 1 and key.claimed_by is None and key.last_error == "503 ServiceNotAvailable"
    assert abs((key.due_at - later).total_seconds()) < 1
    with database.session() as session:
        assert dirty_keys.claim(session, "w", 10) == []

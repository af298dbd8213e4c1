"""Fair claiming on SQLite and PostgreSQL: fresh changes before bulk work, accounts taking turns within
a lane, and a cap on one account's keys in flight while another account's keys wait."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, text, update

from bridge.accounts import connection
from bridge.codes import UserState
from bridge.db import Database
from bridge.lms.ingest import ensure_account
from bridge.models import Connection, DirtyKey, utcnow
from bridge.queue import dirty_keys, held_keys
from bridge.queue.dirty_keys import Lane
from bridge.sync.keys import settle_keys
from bridge.sync.steps import Outcome
from tests.bridge.test_queue import connected
from tests.conftest import empty


def mark(database: Database, account: str, users: list[str], lane: Lane, minutes_ago: float = 0) -> None:
    with database.session() as session:
        dirty_keys.mark_dirty(session, account, users, utcnow() - timedelta(minutes=minutes_ago), lane=lane)


def claim(database: Database, limit: int, cap: int = dirty_keys.ACCOUNT_CAP) -> list[dirty_keys.Claim]:
    with database.session() as session:
        return dirty_keys.claim(session, "w", limit, cap=cap)


def lanes(database: Database) -> dict[tuple[str, str], int]:
    with database.session() as session:
        return {(k.account_id, k.user_id): k.lane for k in session.scalars(select(DirtyKey))}


def test_a_big_backlog_does_not_delay_a_small_accounts_fresh_change(database: Database) -> None:
    connected(database, "big")
    connected(database, "small")
    mark(database, "big", [f"b{i:04}" for i in range(600)], Lane.BULK, minutes_ago=30)  # its switch-on
    mark(database, "big", ["b-fresh"], Lane.FRESH, minutes_ago=20)
    mark(database, "small", ["s1"], Lane.FRESH)  # marked last, due last
    first = claim(database, 3)
    assert {(c.account_id, c.user_id) for c in first if c.lane == Lane.FRESH} == {("big", "b-fresh"), ("small", "s1")}
    assert Counter(c.lane for c in first) == {Lane.FRESH: 2, Lane.BULK: 1}


def test_a_fresh_mark_promotes_a_bulk_key_and_a_bulk_mark_never_demotes(database: Database) -> None:
    connected(database)
    mark(database, "acc", ["u1", "u2"], Lane.BULK, minutes_ago=10)
    mark(database, "acc", ["u3"], Lane.FRESH, minutes_ago=5)
    mark(database, "acc", ["u1"], Lane.FRESH)
    mark(database, "acc", ["u3"], Lane.BULK)
    assert lanes(database) == {("acc", "u1"): Lane.FRESH, ("acc", "u2"): Lane.BULK, ("acc", "u3"): Lane.FRESH}
    assert {c.user_id for c in claim(database, 2)} == {"u1", "u3"}  # u2 is older, but bulk


def test_accounts_take_turns_within_a_lane(database: Database) -> None:
    for account, age in (("a", 30), ("b", 20), ("c", 10)):  # a's keys oldest: oldest-first would give a all
        connected(database, account)
        mark(database, account, [f"{account}{i}" for i in range(10)], Lane.BULK, minutes_ago=age)
    taken = claim(database, 6)
    assert Counter(c.account_id for c in taken) == {"a": 2, "b": 2, "c": 2}
    assert all(c.lane == Lane.BULK for c in taken)


def test_the_cap_holds_one_account_while_another_waits_and_not_when_alone(database: Database) -> None:
    connected(database, "big")
    connected(database, "other")
    mark(database, "big", [f"b{i:03}" for i in range(200)], Lane.BULK, minutes_ago=30)
    mark(database, "other", [f"o{i:03}" for i in range(100)], Lane.BULK)
    first = Counter(c.account_id for c in claim(database, 60, cap=20))
    assert first == {"big": 20, "other": 20}  # each at the cap: 20 slots stay free for a third account
    second = Counter(c.account_id for c in claim(database, 60, cap=20))
    assert second == {}  # both hold their cap; nothing more while both have keys in flight
    with database.session() as session:  # the other account's keys are done
        session.execute(DirtyKey.__table__.delete().where(DirtyKey.account_id == "other"))
    alone = Counter(c.account_id for c in claim(database, 60, cap=20))
    assert alone == {"big": 60}  # a lone account takes every free slot: the cap never idles workers


def test_the_cap_counts_only_keys_still_in_flight(database: Database) -> None:
    connected(database, "big")
    connected(database, "other")
    mark(database, "big", [f"b{i:03}" for i in range(50)], Lane.BULK, minutes_ago=30)
    mark(database, "other", [f"o{i:03}" for i in range(50)], Lane.BULK)
    assert len(claim(database, 10, cap=10)) == 10
    with database.session() as session:  # every lease lapsed: a dead worker's keys hold no slot
        later = dirty_keys.claim(session, "w2", 40, now=utcnow() + dirty_keys.LEASE + timedelta(seconds=1), cap=10)
    assert Counter(c.account_id for c in later) == {"big": 10, "other": 10}


def test_a_key_passed_again_keeps_its_lane(database: Database) -> None:
    connected(database)
    mark(database, "acc", ["bulk"], Lane.BULK, minutes_ago=1)
    mark(database, "acc", ["fresh"], Lane.FRESH)
    taken = claim(database, 10)
    assert {c.user_id: c.lane for c in taken} == {"bulk": Lane.BULK, "fresh": Lane.FRESH}
    again = Outcome(UserState.SYNCED, again=True)  # e.g. its mailbox moved: one more pass
    settle_keys(database, "w", list(reversed(taken)), {"bulk": again, "fresh": again}, utcnow())
    assert lanes(database) == {("acc", "bulk"): Lane.BULK, ("acc", "fresh"): Lane.FRESH}


def test_the_switch_on_puts_keys_queued_before_connecting_in_the_bulk_lane(database: Database) -> None:
    with database.session() as session:
        ensure_account(session, "new")
        dirty_keys.mark_dirty(session, "new", ["u1", "u2"])  # hooks before Connect integration
        session.add(Connection(account_id="new", state="consent_received", tenant_id="t", failures=0))
    with database.session() as session:
        connection.activate(session, "new", "t", ["new.example"], "manager", utcnow())
    assert set(lanes(database).values()) == {Lane.BULK}
    mark(database, "new", ["u2"], Lane.FRESH)  # a change after the switch-on is fresh
    assert lanes(database) == {("new", "u1"): Lane.BULK, ("new", "u2"): Lane.FRESH}


def test_settling_never_waits_for_a_hook_while_holding_keys(postgresql_url: str) -> None:
    """PostgreSQL only (SQLite locks the whole file): the deadlock once seen between a hook marking
    keys in batches and a worker settling its group."""
    database = Database(postgresql_url)
    empty(database)
    try:
        connected(database)
        mark(database, "acc", ["u1", "u2"], Lane.FRESH)
        group = claim(database, 10)
        hook = database.engine.connect()
        hook_transaction = hook.begin()
        hook.execute(update(DirtyKey).where(DirtyKey.user_id == "u2").values(generation=DirtyKey.generation + 1))
        settled = threading.Event()

        def settle() -> None:
            with database.session() as session:
                held_keys.lock(session, group)
                settled.set()

        worker = threading.Thread(target=settle)
        worker.start()
        time.sleep(0.3)  # the worker is trying; u2 is the hook's
        assert not settled.is_set()
        probe = database.engine.connect()
        with probe.begin():  # u1 is free within moments: the worker never waits while it holds it
            probe.execute(text("SET LOCAL lock_timeout = '1s'"))
            probe.execute(select(DirtyKey.user_id).where(DirtyKey.user_id == "u1").with_for_update())
        probe.close()
        hook_transaction.commit()
        hook.close()
        worker.join(timeout=10)
        assert settled.is_set()
    finally:
        database.dispose()


def test_a_backfill_is_passed_in_larger_groups_than_fresh_changes(database: Database) -> None:
    """A worker's claim is split by account and lane: fresh changes in passes of GROUP_SIZE users (one
    envelope, back soon), a backfill in passes of up to BULK_GROUP_SIZE (the pass's reads and
    write-backs shared by more entries) when few threads are free; with many idle threads the same
    keys are spread over them, GROUP_SIZE at least."""
    from bridge.worker.loop import GROUP_SIZE, _groups

    most = {Lane.FRESH: GROUP_SIZE, Lane.BULK: 50}  # the bulk lane's size as the worker gives it for the account

    for account in ("a", "b"):
        connected(database, account)
    mark(database, "a", [f"f{n:03}" for n in range(25)], Lane.FRESH)
    mark(database, "a", [f"b{n:03}" for n in range(125)], Lane.BULK)
    mark(database, "b", [f"b{n:03}" for n in range(6)], Lane.BULK)
    claims = claim(database, 400)
    groups = _groups(claims, lambda _, lane: most[lane], 2)
    assert sorted((c.account_id, c.user_id) for g in groups for c in g) == sorted((c.account_id, c.user_id)
                                                                                  for c in claims)
    assert all(len({(c.account_id, c.lane) for c in g}) == 1 for g in groups)
    sizes = Counter((g[0].account_id, g[0].lane, len(g)) for g in groups)
    assert sizes == {("a", Lane.FRESH, GROUP_SIZE): 2, ("a", Lane.FRESH, 5): 1,
                     ("a", Lane.BULK, 50): 2, ("a", Lane.BULK, 25): 1, ("b", Lane.BULK, 6): 1}
    idle = Counter((g[0].account_id, g[0].lane, len(g))
                   for g in _groups(claims, lambda _, lane: most[lane], 32))
    assert idle == {("a", Lane.FRESH, GROUP_SIZE): 2, ("a", Lane.FRESH, 5): 1,
                    ("a", Lane.BULK, GROUP_SIZE): 12, ("a", Lane.BULK, 5): 1, ("b", Lane.BULK, 6): 1}

"""The executor (bridge.sync.run.Pass) and the worker over the in-memory tenant: each test runs in
milliseconds, on SQLite and PostgreSQL, and ends comparing the mailboxes with the oracle."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bridge.accounts import connection
from bridge.codes import ConnectionState, Reason
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.memory import Faults
from bridge.models import DirectoryEntry, Entry
from bridge.queue import dirty_keys
from bridge.sync import store
from bridge.sync.run import Pass
from bridge.sync.steps import Outcome
from tests.bridge.memory_world import ACCOUNT, DOMAIN, MemoryWorld
from tests.reliability.lms import soon


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database)
    made.mailboxes("org", "ann", "bob")
    base = datetime.now(UTC)
    made.deliver(*(made.lms.upsert_user(u) for u in ("org", "ann", "bob")),
                 made.lms.upsert_event("e1", title="Induction", organizer="org", zone="Europe/Berlin",
                                       sessions=[(f"s{i}", soon(30 + 3 * i, base), soon(32 + 3 * i, base))
                                                 for i in range(6)]),
                 made.lms.enroll("e1", "ann", "s0"), made.lms.enroll("e1", "bob", "s1"))
    made.connect()
    yield made


def run(world: MemoryWorld, *users: str) -> dict[str, object]:
    return dict(Pass(world.database, world.graph, ACCOUNT, list(users), datetime.now(UTC)).run())


def states(world: MemoryWorld) -> dict[str, tuple[str, str | None]]:
    """Each user's recorded state and reason."""
    with world.database.session() as session:
        recorded = store.user_states_of(session, ACCOUNT, ["org", "ann", "bob", "carl", "dan", "eve"])
    return {uid: (state, reason) for uid, (state, reason, _) in recorded.items()}


def test_one_pass_over_a_group_makes_every_entry(world: MemoryWorld) -> None:
    results = run(world, "org", "ann", "bob")
    assert all(not isinstance(r, Exception) for r in results.values()), results
    assert world.problems() == []
    assert states(world) == {u: ("synced", None) for u in ("org", "ann", "bob")}
    before = world.tenant.requests
    run(world, "org", "ann", "bob")  # level-triggered: nothing left to do, nothing sent
    assert world.tenant.requests == before


def test_answers_lost_after_applying_leave_no_duplicate(world: MemoryWorld) -> None:
    world.tenant.faults = Faults(script=["lost", "lost"])  # both envelopes (the organizer has six)
    results = run(world, "org", "ann", "bob")
    assert all(isinstance(r, errors.Transient) for r in results.values()), results
    with world.database.session() as session:
        assert set(session.scalars(select(Entry.state))) == {"creating"}
    assert world.problems() == []  # Graph made them; only the answers were lost
    run(world, "org", "ann", "bob")  # found by tag and adopted
    assert world.problems() == []
    with world.database.session() as session:
        assert set(session.scalars(select(Entry.state))) == {"active"}


def test_a_lost_deletion_then_the_lms_changes_back(world: MemoryWorld) -> None:
    run(world, "ann")
    world.deliver(world.lms.enroll("e1", "ann", "s2"))
    world.tenant.faults = Faults(script=["lost"])
    run(world, "ann")
    world.deliver(world.lms.enroll("e1", "ann", "s0"))
    world.calm()
    world.sync()
    assert world.problems() == []


def records(world: MemoryWorld, user: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    """The user's entry records: key → (state, Graph event id)."""
    with world.database.session() as session:
        return {(e.event_id, e.session_id): (e.state, e.graph_event_id)
                for e in session.scalars(select(Entry).where(Entry.user_id == user))}


def test_a_move_to_another_session_is_one_update_of_the_same_entry(world: MemoryWorld) -> None:
    world.sync()
    [before] = world.tenant.events(f"ann@{DOMAIN}")
    world.deliver(world.lms.enroll("e1", "ann", "s2"))
    sent = world.tenant.requests
    run(world, "ann")
    assert world.tenant.requests == sent + 1  # one PATCH: no deletion, no creation
    [after] = world.tenant.events(f"ann@{DOMAIN}")
    assert (after["id"], after["subject"]) == (before["id"], "Induction — Session 3")
    assert records(world, "ann") == {("e1", "s2"): ("active", before["id"])}
    assert world.problems() == []


@pytest.mark.parametrize("fault", ["lost", "reset"])
def test_a_move_whose_answer_is_lost_or_never_applied_ends_as_one_entry(world: MemoryWorld, fault: str) -> None:
    """Both records stay in flight (the new session's "creating", the old one's deletion) and the next
    pass finds each by its tag: the moved entry is adopted, or the old one deleted and the new made."""
    world.sync()
    world.deliver(world.lms.enroll("e1", "ann", "s2"))
    world.tenant.faults = Faults(script=[fault])
    [result] = run(world, "ann").values()
    assert isinstance(result, errors.Transient)
    world.calm()
    world.sync()
    assert [e["subject"] for e in world.tenant.events(f"ann@{DOMAIN}")] == ["Induction — Session 3"]
    assert list(records(world, "ann")) == [("e1", "s2")]
    assert world.problems() == []


def test_a_move_of_an_entry_deleted_in_outlook_makes_the_new_session(world: MemoryWorld) -> None:
    """A move changes the time: like an update's material change, the entry is made again."""
    world.sync()
    [entry] = world.tenant.events(f"ann@{DOMAIN}")
    world.tenant.delete_event(f"ann@{DOMAIN}", entry["id"])
    world.deliver(world.lms.enroll("e1", "ann", "s2"))
    [result] = run(world, "ann").values()
    assert result == Outcome("synced", again=True)
    world.sync()
    assert [e["subject"] for e in world.tenant.events(f"ann@{DOMAIN}")] == ["Induction — Session 3"]
    assert list(records(world, "ann")) == [("e1", "s2")]
    assert world.problems() == []


def test_a_backfills_passes_are_sized_by_the_writes_they_send(world: MemoryWorld) -> None:
    """Fresh changes are passed GROUP_SIZE users at a time; a backfill's pass is sized to send about
    WRITES_PER_PASS writes by the account's latest backfill pass (GROUP_SIZE until one has told;
    BULK_GROUP_SIZE when it sent nothing), so learners with many entries come in smaller passes."""
    from bridge.queue.dirty_keys import Lane
    from bridge.worker.loop import BULK_GROUP_SIZE, GROUP_SIZE, WRITES_PER_PASS

    worker = world.worker()
    assert worker.group_size(ACCOUNT, Lane.BULK) == GROUP_SIZE  # nothing known yet
    world.sync()  # the hooks' fresh changes: the organizer's six entries, ann's and bob's one
    assert worker.group_size(ACCOUNT, Lane.BULK) == GROUP_SIZE  # fresh passes tell nothing
    with world.database.session() as session:  # each entry then needs an update, without marking the users fresh
        session.execute(update(Entry).values(payload_hash="stale"))
        dirty_keys.mark_dirty(session, ACCOUNT, ["org", "ann", "bob"], datetime.now(UTC), lane=Lane.BULK)
    worker.drain(timeout=10, due_within=0)
    assert worker.group_size(ACCOUNT, Lane.BULK) == round(WRITES_PER_PASS / (8 / 3))  # 8 updates, 3 users
    assert worker.group_size(ACCOUNT, Lane.FRESH) == GROUP_SIZE
    assert worker.group_size("another", Lane.BULK) == GROUP_SIZE
    with world.database.session() as session:
        dirty_keys.mark_dirty(session, ACCOUNT, ["org", "ann", "bob"], datetime.now(UTC), lane=Lane.BULK)
    worker.drain(timeout=10, due_within=0)  # nothing changed: nothing sent
    assert worker.group_size(ACCOUNT, Lane.BULK) == BULK_GROUP_SIZE
    assert world.problems() == []
    unknown = Pass(world.database, world.graph, "no-such-account", ["x"], datetime.now(UTC))
    unknown.run()
    assert unknown.sent is None  # ended before sending: tells the worker nothing about writes per user


def test_throttled_writes_come_back_due_at_retry_after(world: MemoryWorld) -> None:
    world.tenant.faults = Faults(throttle=0.3, retry_after=2.5, seed=3)
    results = run(world, "org", "ann", "bob")
    throttled = [r for r in results.values() if isinstance(r, errors.Throttled)]
    assert throttled and all(r.retry_after == 2.5 for r in throttled)
    assert world.slept == []  # never waited out inside the pass: the user is retried later
    world.calm()
    world.sync()
    assert world.problems() == []


def test_an_alias_is_found_in_the_directory_and_written_by_id(world: MemoryWorld) -> None:
    world.tenant.add_user(f"carl.real@{DOMAIN}", mail=f"carl@{DOMAIN}")
    world.deliver(world.lms.upsert_user("carl"), world.lms.enroll("e1", "carl", "s3"))
    [first] = run(world, "carl").values()
    assert first == Outcome("synced", again=True)  # looked up in the directory: once more, by id
    run(world, "carl")
    assert [e["subject"] for e in world.tenant.events(f"carl.real@{DOMAIN}")] == ["Induction — Session 4"]
    assert states(world)["carl"] == ("synced", None)


def test_unreachable_mailboxes_fail_with_the_reason(world: MemoryWorld) -> None:
    world.tenant.add_user(f"dan@{DOMAIN}", mailbox="on_premises")
    world.deliver(world.lms.upsert_user("dan"), world.lms.enroll("e1", "dan", "s0"),
                  world.lms.upsert_user("eve"), world.lms.enroll("e1", "eve", "s0"))
    world.sync()
    assert states(world)["dan"] == ("failed", Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE)
    assert states(world)["eve"] == ("failed", Reason.USER_NOT_FOUND)


def test_deleted_in_outlook_stays_gone_until_the_time_changes(world: MemoryWorld) -> None:
    run(world, "ann")
    [entry] = world.tenant.events(f"ann@{DOMAIN}")
    world.tenant.delete_event(f"ann@{DOMAIN}", entry["id"])
    world.deliver(world.lms.change_event("e1", title="Induction (new)"))
    run(world, "ann")
    assert world.tenant.events(f"ann@{DOMAIN}") == []
    world.deliver(world.lms.move_session("e1", "s0", soon(1) - soon(0)))
    world.sync()
    assert [e["subject"] for e in world.tenant.events(f"ann@{DOMAIN}")] == ["Induction (new) — Session 1"]


def test_a_tenant_refusing_us_suspends_the_account(world: MemoryWorld) -> None:
    world.tenant.tenant_id = "another-tenant"  # every answer is now 401
    world.worker().drain(timeout=10, due_within=0)
    assert world.backlog() == 3  # kept for when the owner reconnects
    with world.database.session() as session:
        assert connection.connection(session, ACCOUNT).state == ConnectionState.SUSPENDED


def test_a_renamed_user_keeps_one_entry_recorded_under_the_mailbox_id(world: MemoryWorld) -> None:
    """The tenant renames ann (her old address stays an alias) and the LMS sends the new one: the
    entry stays, its record now names the mailbox by the Graph user's id, and nothing more is sent."""
    world.sync()
    [before] = world.tenant.events(f"ann@{DOMAIN}")
    world.tenant.rename_user(f"ann@{DOMAIN}", f"ann.new@{DOMAIN}")
    world.deliver(world.lms.change_user("ann", email=f"ann.new@{DOMAIN}"))
    world.sync()
    assert [e["id"] for e in world.tenant.events(f"ann.new@{DOMAIN}")] == [before["id"]]
    assert world.problems() == []
    graph_id = next(u.id for u in world.tenant.users.values() if u.upn == f"ann.new@{DOMAIN}")
    with world.database.session() as session:
        assert session.scalars(select(Entry.mailbox_id).where(Entry.user_id == "ann")).all() == [graph_id]
    sent = world.tenant.requests
    run(world, "ann")
    assert world.tenant.requests == sent


def test_an_alias_user_keeps_the_entry_when_the_cached_look_up_expires(world: MemoryWorld) -> None:
    """Carl's LMS address is an alias: the entry is made by his Graph id; a day later the cached
    look-up has expired and the address is found again, the same mailbox: nothing deleted, nothing re-made."""
    world.tenant.add_user(f"carl.upn@{DOMAIN}", mail=f"carl@{DOMAIN}")
    world.deliver(world.lms.upsert_user("carl"), world.lms.enroll("e1", "carl", "s2"))
    world.sync()
    [before] = world.tenant.events(f"carl.upn@{DOMAIN}")
    with world.database.session() as session:
        session.execute(update(DirectoryEntry).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    world.deliver(world.lms.change_event("e1", title="Induction (new)"))
    world.sync()
    [after] = world.tenant.events(f"carl.upn@{DOMAIN}")
    assert after["id"] == before["id"] and after["subject"].startswith("Induction (new)")

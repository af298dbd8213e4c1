"""The mass-removal guard: removals that would take more than half (and more than a minimum) of an
account's future entries wait for the owner's confirmation; creations and updates go on; the hold
says how many and why, and lifts by itself when the LMS comes back. Over the in-memory tenant, on
SQLite and PostgreSQL (threshold lowered to 8 entries to keep the world small)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bridge.codes import Reason
from bridge.db import Database
from bridge.sync import guard, store
from bridge.sync.guard import Guard
from tests.bridge.memory_world import ACCOUNT, DOMAIN, MemoryWorld
from tests.reliability.lms import soon

LEARNERS = [f"k{n}" for n in range(12)]


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database, guard=Guard(percent=50, minimum=8))
    made.mailboxes("org", "new", *LEARNERS)
    base = datetime.now(UTC)
    lms = made.lms
    made.deliver(lms.upsert_user("org"), lms.upsert_user("new"), *(lms.upsert_user(u) for u in LEARNERS),
                 *(lms.upsert_event(e, title=f"Course {e}", organizer="org", zone="Europe/Berlin",
                                    sessions=[(f"{e}s1", soon(30 + 5 * n, base), soon(32 + 5 * n, base))])
                   for n, e in enumerate(["e1", "e2", "e3"])),
                 *(lms.enroll(f"e{n % 3 + 1}", u, f"e{n % 3 + 1}s1") for n, u in enumerate(LEARNERS)))
    made.connect()
    made.sync()
    assert made.problems() == []
    yield made


def entries(world: MemoryWorld) -> int:
    return sum(len(world.tenant.events(u)) for u in list(world.tenant.users))


def reasons(world: MemoryWorld) -> set[str | None]:
    with world.database.session() as session:
        return {reason for _, reason, _ in store.user_states_of(session, ACCOUNT, LEARNERS).values()}


def test_a_mass_removal_waits_for_confirmation_while_creations_go_on(world: MemoryWorld) -> None:
    before = entries(world)  # 3 for the organizer, 12 for the learners
    world.deliver(world.lms.delete_event("e1"), world.lms.delete_event("e2"),
                  world.lms.enroll("e3", "new", "e3s1"))
    world.sync()
    assert entries(world) == before + 1  # nothing removed; the new enrollment made
    assert [e["subject"] for e in world.tenant.events(f"new@{DOMAIN}")] == ["Course e3"]
    with world.database.session() as session:
        hold = guard.current(session, ACCOUNT)
        assert hold is not None
        assert hold.removals == 10 and hold.future_entries in (15, 16)  # counted before or after the creation
        assert hold.causes == {"events_deleted": [10, 2]} and hold.users == 9  # the organizer and 8 learners
        assert guard.reason(hold).startswith("10 of 2 deleted events (noticed at ")
    assert Reason.REMOVAL_HELD in reasons(world)

    with world.database.session() as session:
        confirmed = guard.confirm(session, ACCOUNT, "owner", datetime.now(UTC))
        assert confirmed is not None and (confirmed.removals, confirmed.users) == (10, 9)
        assert guard.confirm(session, ACCOUNT, "owner", datetime.now(UTC)) is None  # nothing waits any more
    world.sync()
    assert world.problems() == []
    with world.database.session() as session:
        assert guard.current(session, ACCOUNT) is None
    assert Reason.REMOVAL_HELD not in reasons(world)


def test_the_hold_lifts_when_the_lms_comes_back(world: MemoryWorld) -> None:
    world.deliver(world.lms.change_event("e1", cancelled=True), world.lms.change_event("e2", cancelled=True))
    world.sync()
    with world.database.session() as session:
        hold = guard.current(session, ACCOUNT)
        assert hold is not None and guard.reason(hold).startswith("10 of 2 cancelled events")
    world.deliver(world.lms.change_event("e1", cancelled=False), world.lms.change_event("e2", cancelled=False))
    world.sync()
    assert world.problems() == []
    with world.database.session() as session:
        assert guard.current(session, ACCOUNT) is None


def test_users_and_enrollments_are_counted_as_such(world: MemoryWorld) -> None:
    world.deliver(*(world.lms.change_user(u, active=False) for u in LEARNERS[:6]),
                  *(world.lms.unenroll(f"e{n % 3 + 1}", u) for n, u in enumerate(LEARNERS) if n >= 9))
    world.sync()
    with world.database.session() as session:
        hold = guard.current(session, ACCOUNT)
        assert hold is not None and (hold.removals, hold.users) == (9, 9)
        assert hold.causes == {"users_gone": [6, 6], "enrollments_ended": [3, 3]}
        assert guard.reason(hold).startswith("6 of 6 users deleted or deactivated; 3 of 3 enrollments ended or moved")


def test_removals_under_the_threshold_go_ahead(world: MemoryWorld) -> None:
    world.deliver(world.lms.delete_event("e1"))  # 5 of 15: under half (though over 8)
    world.sync()
    assert world.problems() == []
    with world.database.session() as session:
        assert guard.current(session, ACCOUNT) is None


def test_removing_everything_on_disconnect_is_not_held(world: MemoryWorld) -> None:
    from bridge.accounts import connection

    with world.database.session() as session:
        connection.disconnect(session, ACCOUNT, True)
    world.sync()
    assert entries(world) == 0

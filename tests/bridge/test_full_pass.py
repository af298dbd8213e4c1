"""The periodic full pass queues only users whose inputs may have changed by themselves (selected in
SQL): nobody when nothing changed; the holders of a session that started or ended meanwhile; users
whose last pass failed; everyone when the tenant's domains changed. A reminder change queues the
holders of entries in its own transaction."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bridge.accounts import connection, schedule
from bridge.db import Database
from bridge.lms import settings as account_settings
from bridge.models import DirtyKey
from tests.bridge.memory_world import ACCOUNT, DOMAIN, MemoryWorld
from tests.reliability.lms import soon

BASE = datetime.now(UTC)
ENDS = soon(3, BASE)  # s1 of e1 ends three hours from now


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database)
    made.mailboxes("org", "ann", "bob")
    made.tenant.add_user(f"dan@{DOMAIN}", mailbox="on_premises")
    lms = made.lms
    made.deliver(*(lms.upsert_user(u) for u in ("org", "ann", "bob", "dan")),
                 lms.upsert_event("e1", title="Soon", organizer="org", zone="Europe/Berlin",
                                  sessions=[("s1", soon(2, BASE), ENDS)]),
                 lms.upsert_event("e2", title="Later", organizer=None, zone="Europe/Berlin",
                                  sessions=[("s1", soon(50, BASE), soon(52, BASE))]),
                 lms.enroll("e1", "ann", "s1"), lms.enroll("e2", "bob", "s1"), lms.enroll("e2", "dan", "s1"))
    made.connect()
    made.sync()
    yield made


def queued(world: MemoryWorld) -> list[str]:
    with world.database.session() as session:
        return sorted(session.scalars(select(DirtyKey.user_id)))


def full_pass(world: MemoryWorld, since: datetime, now: datetime) -> int:
    with world.database.session() as session:
        return schedule.mark_due(session, ACCOUNT, since, now)


def test_nothing_changed_nobody_but_the_failed_is_queued(world: MemoryWorld) -> None:
    assert full_pass(world, BASE, BASE + timedelta(hours=1)) == 1
    assert queued(world) == ["dan"]  # his mailbox is on-premises: tried again each full pass


def test_a_session_that_ended_queues_its_holders(world: MemoryWorld) -> None:
    full_pass(world, ENDS - timedelta(hours=1), ENDS + timedelta(minutes=1))
    assert queued(world) == ["ann", "dan", "org"]


def test_a_session_that_started_queues_its_holders(world: MemoryWorld) -> None:
    full_pass(world, BASE, soon(2, BASE) + timedelta(minutes=1))
    assert queued(world) == ["ann", "dan", "org"]


def test_a_domain_removed_queues_everyone_and_their_entries_go(world: MemoryWorld) -> None:
    with world.database.session() as session:
        assert not connection.domains_changed(session, ACCOUNT, [DOMAIN], BASE)  # the same: nobody queued
    assert queued(world) == []
    world.tenant.domains = ["other.example"]
    with world.database.session() as session:
        assert connection.domains_changed(session, ACCOUNT, ["other.example"], BASE)
    assert queued(world) == ["ann", "bob", "dan", "org"]
    world.sync()
    assert world.problems() == []
    assert all(world.tenant.events(f"{u}@{DOMAIN}") == [] for u in ("org", "ann", "bob"))


def test_a_reminder_change_queues_the_holders_of_entries(world: MemoryWorld) -> None:
    with world.database.session() as session:
        account_settings.set_reminder(session, ACCOUNT, 30)
    assert queued(world) == ["ann", "bob", "org"]

"""Deadlines end to end over the in-memory tenant, on SQLite and PostgreSQL: one free entry per
learner at their own due time; an extension moves it (never a second one); handing in removes it
(or keeps it, as the account chooses); a group override reaches the group's members only; a past
deadline is never touched; the deadline setting and its reminder."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bridge.db import Database
from bridge.lms import settings
from bridge.models import DirtyKey, LmsLearnerDeadline
from bridge.sync import guard
from bridge.sync.guard import Guard
from tests.bridge.memory_world import ACCOUNT, DOMAIN, MemoryWorld
from tests.reliability.lms import Lms, soon

LEARNERS = ["ann", "bob", "cid", "dan"]
GROUP = ["cid", "dan"]


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database)
    made.mailboxes(*LEARNERS)
    lms = made.lms
    made.deliver(*(lms.upsert_user(u) for u in LEARNERS),
                 lms.upsert_deadline("a1", title="Essay", due=soon(72)),
                 *(lms.assign_deadline("a1", u) for u in LEARNERS))
    made.connect()
    made.sync()
    assert made.problems() == []
    yield made


def entries_of(world: MemoryWorld, uid: str) -> list[dict[str, Any]]:
    return world.tenant.events(f"{uid}@{DOMAIN}")


def test_each_learner_gets_one_free_entry_at_the_due_time(world: MemoryWorld) -> None:
    due = world.lms.deadlines["a1"]["due"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for uid in LEARNERS:
        [entry] = entries_of(world, uid)
        assert (entry["subject"], entry["start"], entry["end"]) == ("Due: Essay", due, due)
        payload = entry["payload"]
        assert payload["showAs"] == "free"
        assert (payload["isReminderOn"], payload["reminderMinutesBeforeStart"]) == (True, 24 * 60)
        assert 'href="https://lms.example/assign/a1"' in payload["body"]["content"]


def test_an_extension_moves_the_learners_entry_and_makes_no_second_one(world: MemoryWorld) -> None:
    before = {u: entries_of(world, u)[0]["id"] for u in LEARNERS}
    extended = soon(120)
    world.deliver(world.lms.assign_deadline("a1", "ann", due=extended))
    world.sync()
    [entry] = entries_of(world, "ann")
    at = extended.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert (entry["id"], entry["start"], entry["end"], entry["payload"]["showAs"]) == (before["ann"], at, at, "free")
    assert {u: entries_of(world, u)[0]["id"] for u in LEARNERS} == before  # the others untouched
    world.deliver(world.lms.assign_deadline("a1", "ann", due=None))  # the extension removed
    world.sync()
    assert world.problems() == []
    assert [e["id"] for e in entries_of(world, "ann")] == [before["ann"]]


def test_handing_in_removes_the_entry_and_reopening_brings_it_back(world: MemoryWorld) -> None:
    world.deliver(world.lms.assign_deadline("a1", "bob", done=True))
    world.sync()
    assert entries_of(world, "bob") == [] and all(len(entries_of(world, u)) == 1 for u in ("ann", "cid", "dan"))
    world.deliver(world.lms.assign_deadline("a1", "bob", done=False))
    world.sync()
    assert world.problems() == [] and len(entries_of(world, "bob")) == 1


def test_a_done_deadline_stays_when_the_account_keeps_them(world: MemoryWorld) -> None:
    with world.database.session() as session:
        settings.set_deadlines(session, ACCOUNT, offered=True, reminder_minutes=None, when_done="keep")
    world.deliver(world.lms.assign_deadline("a1", "bob", done=True))
    world.sync()
    [entry] = entries_of(world, "bob")
    assert entry["payload"]["isReminderOn"] is False  # an update: the minutes stay, as a PATCH leaves them


def test_a_group_override_reaches_the_groups_members_only(world: MemoryWorld) -> None:
    later = soon(96)
    world.deliver(*(world.lms.assign_deadline("a1", u, due=later) for u in GROUP))
    world.sync()
    assert world.problems() == []
    at = later.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    default = world.lms.deadlines["a1"]["due"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert {u: [e["start"] for e in entries_of(world, u)] for u in LEARNERS} == {
        "ann": [default], "bob": [default], "cid": [at], "dan": [at]}


def test_a_deadline_that_stops_applying_or_is_deleted_goes(world: MemoryWorld) -> None:
    world.deliver(world.lms.release_deadline("a1", "ann"))
    world.sync()
    assert entries_of(world, "ann") == [] and len(entries_of(world, "bob")) == 1
    world.deliver(world.lms.delete_deadline("a1"))
    world.sync()
    assert all(entries_of(world, u) == [] for u in LEARNERS)


def test_a_past_deadline_is_never_touched(world: MemoryWorld) -> None:
    passed = datetime.now(UTC) - timedelta(hours=1)
    with world.database.session() as session:  # the due time passes (the clock moves; the LMS said nothing)
        session.execute(update(LmsLearnerDeadline).values(due=passed))
    world.deliver(world.lms.assign_deadline("a1", "ann", due=passed, done=True),  # handed in late
                  world.lms.change_deadline("a1", title="Essay 2"))
    world.sync()
    assert all(e["subject"] == "Due: Essay" for u in LEARNERS for e in entries_of(world, u))
    assert all(len(entries_of(world, u)) == 1 for u in LEARNERS)


def test_switching_deadlines_off_removes_them_and_on_brings_them_back(world: MemoryWorld) -> None:
    with world.database.session() as session:
        settings.set_deadlines(session, ACCOUNT, offered=False, reminder_minutes=60, when_done="remove")
    world.sync()
    assert all(entries_of(world, u) == [] for u in LEARNERS)
    with world.database.session() as session:
        settings.set_deadlines(session, ACCOUNT, offered=True, reminder_minutes=60, when_done="remove")
    world.sync()
    assert all([e["payload"]["reminderMinutesBeforeStart"] for e in entries_of(world, u)] == [60] for u in LEARNERS)


@pytest.mark.parametrize(("reminder", "when_done", "error"), [
    (-1, "remove", "deadline reminder must be 0 to 40320 minutes, not -1"),
    (40321, "remove", "deadline reminder must be 0 to 40320 minutes, not 40321"),
    (60, "archive", "when done: 'archive' is not one of remove, keep"),
])
def test_a_bad_deadline_setting_is_refused_and_nothing_stored(database: Database, reminder: int, when_done: str,
                                                              error: str) -> None:
    with database.session() as session, pytest.raises(ValueError, match=error):
        settings.set_deadlines(session, ACCOUNT, offered=True, reminder_minutes=reminder, when_done=when_done)
    with database.session() as session:
        assert settings.read(session, ACCOUNT) == settings.DEFAULTS


def test_the_outlook_check_sees_a_deleted_and_a_moved_deadline(world: MemoryWorld) -> None:
    now = datetime.now(UTC)
    assert world.worker().check_outlook(now).mailboxes == len(LEARNERS)  # the first round's baseline
    due = entries_of(world, "bob")[0]["start"]
    world.tenant.delete_event(f"ann@{DOMAIN}", entries_of(world, "ann")[0]["id"])
    later = (datetime.fromisoformat(due) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    world.tenant.move_event(f"bob@{DOMAIN}", entries_of(world, "bob")[0]["id"], later, later)
    report = world.worker().check_outlook(now)
    assert (report.deleted, report.moved) == (1, 1)
    world.sync()
    assert entries_of(world, "ann") == []  # a deletion is respected
    assert [e["start"] for e in entries_of(world, "bob")] == [due]  # a move is put back (the default)


def test_a_mass_release_of_deadlines_waits_for_confirmation(database: Database) -> None:
    made = MemoryWorld(database, guard=Guard(percent=50, minimum=3))
    made.mailboxes(*LEARNERS)
    lms = made.lms
    made.deliver(*(lms.upsert_user(u) for u in LEARNERS), lms.upsert_deadline("a1", title="Essay", due=soon(72)),
                 *(lms.assign_deadline("a1", u) for u in LEARNERS))
    made.connect()
    made.sync()
    made.deliver(*(lms.release_deadline("a1", u) for u in LEARNERS))
    made.sync()
    assert all(len(entries_of(made, u)) == 1 for u in LEARNERS)  # held
    with database.session() as session:
        hold = guard.current(session, ACCOUNT)
        assert hold is not None and hold.causes == {"deadlines_ended": [4, 4]} and hold.users == 4
        assert guard.reason(hold).startswith("4 of 4 deadlines no longer applying")
    made.deliver(lms.delete_deadline("a1"))
    made.sync()
    with database.session() as session:
        hold = guard.current(session, ACCOUNT)
        assert hold is not None and hold.causes == {"deadlines_deleted": [4, 1]}


def test_a_deadline_speaks_the_entries_language(world: MemoryWorld) -> None:
    with world.database.session() as session:
        settings.set_locale(session, ACCOUNT, "ru")
    world.sync()
    [entry] = entries_of(world, "ann")
    assert entry["subject"] == "Срок: Essay" and "Срок:" in entry["payload"]["body"]["content"]
    assert "Открыть в СДО" in entry["payload"]["body"]["content"]


def test_two_lms_users_of_one_mailbox_get_one_entry_per_deadline(world: MemoryWorld) -> None:
    world.deliver(world.lms.upsert_user("ann2", email=f"ann@{DOMAIN}"), world.lms.assign_deadline("a1", "ann2"))
    world.sync()
    assert [e["subject"] for e in entries_of(world, "ann")] == ["Due: Essay"]
    assert world.problems() == []


def test_another_accounts_deadline_with_the_same_ids_changes_nothing_here(world: MemoryWorld) -> None:
    before = {u: [(e["id"], e["subject"], e["start"]) for e in entries_of(world, u)] for u in LEARNERS}
    beta = Lms("beta", DOMAIN)
    world.deliver(beta.upsert_user("ann"), beta.upsert_deadline("a1", title="Other essay", due=soon(24)),
                  beta.assign_deadline("a1", "ann", due=soon(30), done=False), beta.delete_deadline("a1"))
    with world.database.session() as session:  # beta's "ann" is queued in beta; nobody of this account is
        assert set(session.execute(select(DirtyKey.account_id, DirtyKey.user_id))) == {("beta", "ann")}
    world.worker().drain(timeout=30, due_within=0)  # beta is not connected: its key waits
    assert {u: [(e["id"], e["subject"], e["start"]) for e in entries_of(world, u)] for u in LEARNERS} == before

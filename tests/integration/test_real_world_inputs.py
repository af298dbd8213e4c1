"""Inputs that public bug reports of calendar sync show, each with its right outcome, in the emulator's
mailboxes, on SQLite and PostgreSQL."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.integration.world import DOMAIN, World, at

ORG, LENA = f"org@{DOMAIN}", f"lena@{DOMAIN}"


def test_a_session_moved_from_the_past_into_the_future(world: World) -> None:
    """Both the organizer and a learner have an entry; the session ends; the LMS then moves that same
    session (same ids, higher version) to next week: an entry at the new time for both."""
    world.person("org")
    world.person("lena")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    world.event("e1", [("s1", start, start + timedelta(seconds=2))])
    world.enroll("lena", "e1", "s1")
    world.connect()
    world.sync()
    assert world.subjects(ORG) == world.subjects(LENA) == ["Event e1"]
    time.sleep(max(0.0, (start + timedelta(seconds=2.5) - datetime.now(UTC)).total_seconds()))  # it has ended

    next_week = at(24 * 7)
    world.change_session("e1", "s1", start=next_week, end=next_week + timedelta(hours=1))
    world.sync()
    for address in (ORG, LENA):
        [entry] = world.mailbox(address)
        assert entry["start"]["dateTime"][:19] == next_week.strftime("%Y-%m-%dT%H:%M:%S"), address
    assert world.state("lena") == ("synced", None) and world.state("org") == ("synced", None)


def test_one_mailbox_two_lms_users_one_entry(world: World) -> None:
    """Two LMS users carry one corporate address (duplicate accounts after an import) and both are
    assigned the same session: one entry; it stays while either is enrolled, and goes when neither
    is. The page's table still lists both users, each with its state."""
    world.person("org")
    world.person("ann", LENA)
    world.person("ann-2", LENA)
    world.event("e1", [("s1", at(30), at(32))])
    world.enroll("ann", "e1", "s1")
    world.enroll("ann-2", "e1", "s1")
    world.connect()
    world.sync()
    [entry] = world.mailbox(LENA)
    assert world.state("ann") == world.state("ann-2") == ("synced", None)

    world.deliver("enrollment.deleted", {"event_id": "e1", "user_id": "ann"})  # the holder's own goes
    world.sync()
    assert [e["id"] for e in world.mailbox(LENA)] == [entry["id"]]  # the same entry stays
    world.deliver("enrollment.deleted", {"event_id": "e1", "user_id": "ann-2"})
    world.sync()
    assert world.mailbox(LENA) == []

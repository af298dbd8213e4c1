"""Every rule line of docs/BEHAVIOUR.md (items 3–9), checked in the emulated mailboxes.

Each case builds an LMS state, syncs, optionally changes the LMS and syncs again, then compares what
each mailbox holds (subjects) and each user's state with what the rule says.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bridge.lms import settings as account_settings
from tests.integration.world import DOMAIN, World, at

Step = Callable[[World], None]


@dataclass
class Case:
    name: str
    change: Step | None
    mailboxes: dict[str, list[str]]
    states: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def base(world: World) -> None:
    """An organizer, three learners, one event with two upcoming sessions."""
    for uid in ("org", "lena", "lars", "lucy"):
        world.person(uid)
    world.event("e1", [("s1", at(24), at(26)), ("s2", at(48), at(50))])
    world.enroll("lena", "e1", "s1")
    world.enroll("lars", "e1", "s2")
    world.enroll("lucy", "e1", None)


S1, S2 = "Event e1 — Session 1", "Event e1 — Session 2"
LENA, LARS, LUCY, ORG = (f"{u}@{DOMAIN}" for u in ("lena", "lars", "lucy", "org"))

CASES = [
    Case("switch-on: organizer gets all, learners their session, no choice nothing", None,
         {ORG: [S1, S2], LENA: [S1], LARS: [S2], LUCY: []},
         {"org": ("synced", None), "lucy": ("skipped", "no_session_chosen")}),
    Case("choosing a session makes its entry",
         lambda w: w.enroll("lucy", "e1", "s2"), {LUCY: [S2]}, {"lucy": ("synced", None)}),
    Case("choosing another session moves the learner",
         lambda w: w.enroll("lena", "e1", "s2"), {LENA: [S2], LARS: [S2]}),
    Case("unassignment removes the entry",
         lambda w: w.deliver("enrollment.deleted", {"event_id": "e1", "user_id": "lena"}), {LENA: [], ORG: [S1, S2]}),
    Case("a session deleted from the event is removed from everyone",
         lambda w: w.change_event("e1", sessions=[s for s in w.events["e1"]["sessions"] if s["id"] != "s1"]),
         {ORG: ["Event e1"], LENA: [], LARS: ["Event e1"]}),
    Case("a cancelled event is removed from everyone",
         lambda w: w.change_event("e1", cancelled=True), {ORG: [], LENA: [], LARS: []}),
    Case("a deleted event is removed from everyone",
         lambda w: w.deliver("event.deleted", {"id": "e1"}), {ORG: [], LENA: [], LARS: []}),
    Case("a deactivated user loses their entries",
         lambda w: w.person("lena", active=False), {LENA: [], ORG: [S1, S2]}, {"lena": ("skipped", "inactive")}),
    Case("a deleted user loses their entries",
         lambda w: w.deliver("user.deleted", {"id": "lars"}), {LARS: [], LENA: [S1]}),
    Case("an address that stops being corporate loses the entries",
         lambda w: w.person("lena", "lena.private@gmail.com", mailbox=None), {LENA: []},
         {"lena": ("skipped", "personal_email")}),
    Case("a new title updates the entries",
         lambda w: w.change_event("e1", title="Renamed"),
         {ORG: ["Renamed — Session 1", "Renamed — Session 2"], LENA: ["Renamed — Session 1"]}),
    Case("a new organizer takes the event over",
         lambda w: (w.person("olga"), w.change_event("e1", organizer_id="olga")),  # type: ignore[func-returns-value]
         {ORG: [], f"olga@{DOMAIN}": [S1, S2], LENA: [S1]}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_in_mailboxes(world: World, case: Case) -> None:
    base(world)
    world.connect()
    world.sync()
    if case.change:
        case.change(world)
        world.sync()
    for address, subjects in case.mailboxes.items():
        assert sorted(world.subjects(address)) == sorted(subjects), address
    for uid, state in case.states.items():
        assert world.state(uid) == state, uid


def test_a_new_time_or_place_moves_the_entry_in_place(world: World) -> None:
    base(world)
    world.connect()
    world.sync()
    (before,) = world.mailbox(LENA)
    start, end = at(72), at(75)
    world.change_session("e1", "s1", start=start, end=end, location="Room 9")
    world.sync()
    (after,) = world.mailbox(LENA)
    assert after["id"] == before["id"]  # updated, not re-made
    assert after["start"]["dateTime"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    assert after["location"]["displayName"] == "Room 9"


def test_only_sessions_not_yet_ended_are_synced_at_switch_on(world: World) -> None:
    world.person("org")
    world.event("e1", [("past", at(-5), at(-3)), ("running", at(-1), at(1)), ("next", at(24), at(25))])
    world.connect()
    world.sync()
    assert sorted(world.subjects(ORG)) == ["Event e1 — Session 2", "Event e1 — Session 3"]


def test_past_entries_are_never_touched(world: World) -> None:
    world.person("org")
    world.event("e1", [("soon", at(0.0003), at(0.0006)), ("later", at(24), at(25))])
    world.connect()
    world.sync()
    assert len(world.mailbox(ORG)) == 2
    time.sleep(2.5)  # the first session is now over
    world.change_event("e1", cancelled=True)
    world.sync()
    assert world.subjects(ORG) == ["Event e1 — Session 1"]


def test_reminder_setting_reaches_existing_future_entries(world: World) -> None:
    base(world)
    world.connect()
    world.sync()
    with world.database.session() as session:
        account_settings.set_reminder(session, "acme", 30)
    world.sync()
    assert {e["reminderMinutesBeforeStart"] for e in world.mailbox(ORG)} == {30}
    with world.database.session() as session:
        account_settings.set_reminder(session, "acme", None)
    world.sync()
    assert {e["isReminderOn"] for e in world.mailbox(ORG)} == {False}


def test_an_entry_deleted_in_outlook_comes_back_only_with_a_material_change(world: World) -> None:
    base(world)
    world.connect()
    world.sync()
    (entry,) = world.mailbox(LENA)
    world.emulator.admin.delete_event(world.tenant_id, world.mailbox_ids[LENA], entry["id"])
    world.change_event("e1", title="Renamed")  # not material: stays deleted
    world.sync()
    assert world.mailbox(LENA) == []
    assert world.subjects(ORG) == ["Renamed — Session 1", "Renamed — Session 2"]
    world.change_session("e1", "s1", location="Room 12")  # material: made again
    world.sync()
    assert world.subjects(LENA) == ["Renamed — Session 1"]


@pytest.mark.parametrize(("setup", "reason"), [
    (lambda w: w.person("otto", mailbox="on_premises"), "mailbox_not_in_exchange_online"),
    (lambda w: w.person("una", mailbox="none"), "mailbox_not_in_exchange_online"),
    (lambda w: w.person("nina", mailbox=None), "user_not_found"),
])
def test_unreachable_mailboxes_are_reported_with_the_real_reason(world: World, setup: Step, reason: str) -> None:
    setup(world)
    uid = next(u for u in ("otto", "una", "nina") if any(u in a for a in world.mailbox_ids) or u == "nina")
    world.person("org")
    world.event("e1", [("s1", at(24), at(26))])
    world.enroll(uid, "e1", "s1")
    world.connect()
    world.sync()
    assert world.state(uid) == ("failed", reason)
    assert world.state("org") == ("synced", None)


def test_a_mailbox_outside_the_access_policy_is_reported(world: World) -> None:
    base(world)
    world.emulator.admin.set_access_policy(world.tenant_id, world.settings.client_id,
                                           [world.mailbox_ids[ORG], world.mailbox_ids[LARS]])
    world.connect()
    world.sync()
    assert world.state("lena") == ("failed", "access_denied_by_policy")
    assert world.subjects(ORG) == [S1, S2]


def test_an_address_outside_the_verified_domains_is_skipped(world: World) -> None:
    world.person("org")
    world.person("pat", "pat@partner.example", mailbox=None)
    world.event("e1", [("s1", at(24), at(26))])
    world.enroll("pat", "e1", "s1")
    world.connect()
    world.sync()
    assert world.state("pat") == ("skipped", "domain_not_in_tenant")


def test_a_user_found_by_proxy_address(world: World) -> None:
    """The LMS knows an alias; the directory finds the mailbox through proxyAddresses."""
    world.person("org")
    made = world.emulator.admin.create_user(world.tenant_id, f"mia.main@{DOMAIN}", mail=f"mia.main@{DOMAIN}",
                                            proxy_addresses=[f"SMTP:mia.main@{DOMAIN}", f"smtp:mia@{DOMAIN}"])
    world.mailbox_ids[f"mia@{DOMAIN}"] = made["id"]
    world.deliver("user.upserted", {"id": "mia", "email": f"mia@{DOMAIN}", "name": "Mia", "active": True,
                                    "role": "learner", "timezone": None})
    world.event("e1", [("s1", at(24), at(26))])
    world.enroll("mia", "e1", "s1")
    world.connect()
    world.sync()
    assert world.subjects(f"mia@{DOMAIN}") == ["Event e1"]

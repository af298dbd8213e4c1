"""Inputs from public bug reports about syncing into Outlook, each sent as the LMS would and read back
from the emulator's mailboxes, on SQLite and PostgreSQL: a session moved from the past into the
future, a user renamed in the tenant, one mailbox for two LMS users, HTML descriptions, a zone whose
Windows mapping is out of date, and titles longer than Exchange keeps. (Opaque access tokens:
tests/page/test_connect.py.)"""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bridge.accounts import connection
from tests.integration.world import ACCOUNT, DOMAIN, World, at

ORG, LENA = f"org@{DOMAIN}", f"lena@{DOMAIN}"

ISSUE_DESCRIPTION = ('<p>Bring your <b>laptop</b> &amp; charger.</p><ul><li>Notebook</li><li>Pen</li></ul>'
                     '<script>alert("x")</script><a href="javascript:alert(1)" onclick="steal()">here</a>'
                     '<iframe src="https://evil.example/"></iframe><p style="display:none">Hidden</p>')


def utc(entry_time: dict[str, str]) -> datetime:
    assert entry_time["timeZone"] == "UTC"
    return datetime.fromisoformat(entry_time["dateTime"][:19]).replace(tzinfo=UTC)


def test_an_html_description_shows_formatted_and_harmless(world: World) -> None:
    lena = world.person("lena")
    world.person("org")
    world.event("e1", [("s1", at(24), at(26))], description=ISSUE_DESCRIPTION)
    world.enroll("lena", "e1", "s1")
    world.connect()
    world.sync()
    (entry,) = world.mailbox(lena)
    body = entry["body"]["content"]
    assert "<p>Bring your <b>laptop</b> &amp; charger.</p><ul><li>Notebook</li><li>Pen</li></ul>" in body
    assert "&amp;amp;" not in body and "&lt;" not in body
    for bad in ("<script", "alert", "javascript:", "onclick", "<iframe", "style="):
        assert bad not in body
    assert "<p>Hidden</p>" in body


def test_a_plain_text_description_keeps_its_line_breaks(world: World) -> None:
    lena = world.person("lena")
    world.person("org")
    world.event("e1", [("s1", at(24), at(26))], description="Evacuation routes & extinguishers.\nBring boots.")
    world.enroll("lena", "e1", "s1")
    world.connect()
    world.sync()
    (entry,) = world.mailbox(lena)
    assert "Evacuation routes &amp; extinguishers.<br>Bring boots." in entry["body"]["content"]


def test_a_zone_whose_windows_mapping_is_out_of_date_lands_at_the_right_instant(world: World) -> None:
    """America/Scoresbysund (UTC-2 since 2024) is still mapped to "Azores Standard Time" (UTC-1)."""
    start = datetime(2027, 1, 1, tzinfo=UTC)
    lena = world.person("lena")
    world.person("org")
    world.event("e1", [("s1", start, start + timedelta(hours=2))], timezone="America/Scoresbysund")
    world.enroll("lena", "e1", "s1")
    world.connect()
    world.sync()
    (entry,) = world.mailbox(lena)
    assert utc(entry["start"]) == start and utc(entry["end"]) == start + timedelta(hours=2)
    assert entry["originalStartTimeZone"] == "UTC"
    assert "Thursday, 31 December 2026, 22:00 – Friday, 1 January 2027, 00:00 (America/Scoresbysund)" \
        in entry["body"]["content"]


def test_a_title_over_255_characters_keeps_each_session_label(world: World) -> None:
    org = world.person("org")
    title = ("Annual compliance, safety and data protection training for all staff " * 5)[:300]
    world.event("e1", [("d1", at(24), at(26)), ("d2", at(48), at(50))], title=title,
                location="Main building, " * 30)
    world.change_session("e1", "d1", title="Day 1")
    world.change_session("e1", "d2", title="Day 2")
    world.connect()
    world.sync()
    entries = world.mailbox(org)
    subjects = [e["subject"] for e in entries]
    assert len(subjects) == 2 and len(set(subjects)) == 2
    assert all(len(s) <= 255 for s in subjects)
    assert subjects[0].endswith("… — Day 1") and subjects[1].endswith("… — Day 2")
    assert all(s.startswith("Annual compliance, safety") for s in subjects)
    assert all(len(e["location"]["displayName"]) <= 255 and e["location"]["displayName"].endswith("…")
               for e in entries)


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


RENAMED, ALIAS = f"lena.new@{DOMAIN}", f"lena.alias@{DOMAIN}"


def renamed_world(world: World) -> str:
    """Lena's entry made while her LMS address was her UPN; then the tenant renames her (new UPN and
    primary address, the old one an alias). Returns the entry's id."""
    world.person("org")
    world.emulator.admin.create_user(world.tenant_id, LENA, mail=LENA,
                                     proxy_addresses=[f"SMTP:{LENA}", f"smtp:{ALIAS}"])
    world.mailbox_ids[LENA] = world.mailbox_ids[ALIAS] = world.emulator.admin.users(world.tenant_id)[-1]["id"]
    world.person("lena", LENA)
    world.event("e1", [("s1", at(30), at(32))])
    world.enroll("lena", "e1", "s1")
    world.connect()
    world.sync()
    [entry] = world.mailbox(LENA)
    world.rename(LENA, RENAMED)
    return str(entry["id"])


def one_entry_follows(world: World, entry_id: str) -> None:
    """Exactly one entry, the same one, now and after the session moves (at the new time)."""
    assert [e["id"] for e in world.mailbox(RENAMED)] == [entry_id]
    later = at(54)
    world.change_session("e1", "s1", start=later, end=later + timedelta(hours=2))
    world.sync()
    [entry] = world.mailbox(RENAMED)
    assert entry["id"] == entry_id
    assert entry["start"]["dateTime"][:19] == later.strftime("%Y-%m-%dT%H:%M:%S")
    assert world.state("lena") == ("synced", None)


def test_a_user_renamed_in_the_tenant_whose_lms_address_follows(world: World) -> None:
    """The LMS sends the new address: still one entry (the mailbox is the Graph user, not the address)."""
    entry_id = renamed_world(world)
    world.person("lena", RENAMED)
    world.sync()
    one_entry_follows(world, entry_id)


def test_a_user_renamed_in_the_tenant_whose_lms_address_stays(world: World) -> None:
    """The LMS keeps the old address (now only an alias): the entry is found again, not re-made; when
    she is unassigned, it goes."""
    entry_id = renamed_world(world)
    world.sync()
    one_entry_follows(world, entry_id)
    world.deliver("enrollment.deleted", {"event_id": "e1", "user_id": "lena"})
    world.sync()
    assert world.mailbox(RENAMED) == []


def test_a_renamed_user_whose_lms_address_changes_to_another_alias(world: World) -> None:
    """The LMS address changes to another alias of the same mailbox: one entry."""
    entry_id = renamed_world(world)
    world.person("lena", ALIAS)
    world.sync()
    one_entry_follows(world, entry_id)


def test_disconnecting_after_a_rename_removes_the_entry(world: World) -> None:
    """Removing every entry on disconnect reaches a renamed user's mailbox (the old address fails)."""
    renamed_world(world)
    with world.database.session() as session:
        connection.disconnect(session, ACCOUNT, remove_entries=True)
    world.sync()
    assert world.mailbox(RENAMED) == [] and world.mailbox(f"org@{DOMAIN}") == []

"""The first real path: an entry made through MSAL, HTTPS and the emulator, exactly as the rules say."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msal

from bridge.graph.calendar import TAG_PROPERTY_ID
from emulator.testing import EmulatorHandle
from tests.integration.world import World, at


def test_real_msal_gets_a_token_from_the_emulator(world: World, emulator: EmulatorHandle) -> None:
    """Unpatched MSAL, the emulator's discovery and token endpoints, over HTTPS with its CA."""
    import requests

    http = requests.Session()
    http.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace the emulator's CA (facts.md)
    http.verify = emulator.ca_path
    app = msal.ConfidentialClientApplication(
        world.settings.client_id, authority=f"{emulator.base_url}/{world.tenant_id}",
        client_credential=world.settings.client_secret, http_client=http, instance_discovery=False)
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    assert result["token_source"] == "identity_provider"
    again = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert again["token_source"] == "cache"


def test_a_learner_gets_the_assigned_session(world: World) -> None:
    lena = world.person("lena")
    world.person("org")
    start, end = at(24), at(26)
    world.event("e1", [("s1", start, end), ("s2", at(48), at(50))], location="Room 4", description="Bring boots")
    world.enroll("lena", "e1", "s1")
    world.connect()
    world.sync()

    (entry,) = world.mailbox(lena)
    assert entry["subject"] == "Event e1 — Session 1"
    berlin = ZoneInfo("Europe/Berlin")
    assert entry["originalStartTimeZone"] == "Europe/Berlin"
    start_utc = datetime.fromisoformat(entry["start"]["dateTime"].rstrip("Z")[:19]).replace(tzinfo=ZoneInfo("UTC"))
    assert start_utc == start
    end_utc = datetime.fromisoformat(entry["end"]["dateTime"].rstrip("Z")[:19]).replace(tzinfo=ZoneInfo("UTC"))
    assert end_utc - start_utc == timedelta(hours=2)
    assert 'href="https://lms.example/events/e1"' in entry["body"]["content"]
    assert start.astimezone(berlin).strftime("%H:%M") in entry["body"]["content"]
    assert entry["isReminderOn"] is True and entry["reminderMinutesBeforeStart"] == 15
    assert entry["showAs"] == "busy" and entry["location"]["displayName"] == "Room 4"
    assert entry.get("attendees", []) == []
    assert entry["transactionId"]
    tags = [p for p in entry["singleValueExtendedProperties"] if p["id"].lower() == TAG_PROPERTY_ID.lower()]
    assert len(tags) == 1 and tags[0]["value"].startswith("lms1-")
    assert world.state("lena") == ("synced", None)


def test_running_twice_changes_nothing(world: World, emulator: EmulatorHandle) -> None:
    for name in ("a", "b", "c"):
        world.person(name)
    world.person("org")
    world.event("e1", [("s1", at(24), at(26)), ("s2", at(30), at(32))])
    for name in ("a", "b", "c"):
        world.enroll(name, "e1", "s1")
    world.connect()
    world.sync()
    before = emulator.admin.counters()
    from bridge.accounts import schedule
    with world.database.session() as session:
        schedule.mark_everyone(session, "acme")
    world.sync()
    after = emulator.admin.counters()
    writes = ("creates", "updates", "deletes")
    assert {k: after.get(k) for k in writes} == {k: before.get(k) for k in writes}, (before, after)

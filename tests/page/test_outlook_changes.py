"""Changes users make in Outlook, end to end over HTTPS to the emulator: one user deletes an entry and
another moves one in their mailbox; one Outlook-side check (by a freshly started worker, going on from
the stored deltaLink) sees both, the page's users table says so with when, and the account's choice
for moved entries is followed. Also the choice's card (CSRF form, bad values refused)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from bridge.codes import MovedChoice
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.lms import settings as account_settings
from bridge.worker.loop import Worker
from emulator.testing import EmulatorHandle
from tests.integration.world import World, at
from tests.page.conftest import ACCOUNT, CLIENT_ID, DOMAIN, SETTINGS, USERS, Launch, Tenant, csrf, emulator_settings

PAGE = "/integrations/outlook"


@pytest.fixture
def settings(database: Database, emulator: EmulatorHandle) -> Settings:
    return emulator_settings(database, emulator)


def started(world: World) -> tuple[Worker, int]:
    """A worker of a newly started process (its own Graph), and where the emulator's request log stands."""
    log = world.emulator.admin.requests_log(limit=1)
    since = log[-1]["seq"] if log else 0
    return Worker(world.database, Graph.from_settings(world.settings), concurrency=4), since


def delta_queries(world: World, since: int) -> list[list[str]]:
    """The query parameters' names of each calendarView/delta request since ``since``."""
    return [r["query"] for r in world.emulator.admin.requests_log(since=since) if "calendarView/delta" in r["path"]]


def row_of(html: str, name: str) -> str:
    return next(row for row in html.split("<tr>") if f'<span class="name">{name}</span>' in row)


@pytest.fixture
def world(tenant: Tenant, database: Database, settings: Settings) -> World:
    tenant.handle.admin.grant_consent(tenant.id, CLIENT_ID)
    made = World(tenant.handle, database, settings, Graph.from_settings(settings), tenant.id, account=ACCOUNT,
                 domain=DOMAIN)
    for uid in ("org", "ann", "bob"):
        made.person(uid)
    made.event("e1", [("s1", at(48), at(50))])
    made.enroll("ann", "e1", "s1")
    made.enroll("bob", "e1", "s1")
    made.connect()
    made.sync()
    return made


@pytest.mark.parametrize("choice", [MovedChoice.PUT_BACK, MovedChoice.LEAVE])
def test_deleted_and_moved_in_outlook_are_seen_shown_and_acted_on(
        client: FlaskClient, launch: Launch, world: World, choice: str) -> None:
    ann, bob = f"ann@{DOMAIN}", f"bob@{DOMAIN}"
    first, since = started(world)
    assert first.check_outlook(datetime.now(UTC)).mailboxes == 3
    assert delta_queries(world, since) == [["endDateTime", "startDateTime"]] * 3  # a round begins with its window
    launch("owner")
    answer = client.post(f"{PAGE}/outlook-changes", data={"moved": choice, "csrf_token": csrf(client)})
    assert answer.status_code == 303

    [ann_entry], [bob_entry] = world.mailbox(ann), world.mailbox(bob)
    world.emulator.admin.delete_event(world.tenant_id, ann, ann_entry["id"])
    later = {k: {"dateTime": (datetime.fromisoformat(bob_entry[k]["dateTime"][:19]) + timedelta(hours=2))
                 .strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"} for k in ("start", "end")}
    world.emulator.admin.edit_event(world.tenant_id, bob, bob_entry["id"], **later)

    worker, since = started(world)  # a restart: the rounds go on from the deltaLinks in the database
    report = worker.check_outlook(datetime.now(UTC))
    assert (report.deleted, report.moved) == (1, 1)
    assert delta_queries(world, since) == [["$deltatoken"]] * 3

    html = client.get(USERS).get_data(as_text=True)
    assert "Deleted in Outlook by the user (" in row_of(html, "Ann")
    assert "Moved in Outlook by the user (" in row_of(html, "Bob")
    assert "Outlook by the user" not in row_of(html, "Org")

    world.sync()
    assert world.mailbox(ann) == []  # not put back (docs/BEHAVIOUR.md §9)
    [now_bob] = world.mailbox(bob)
    expected = bob_entry["start"]["dateTime"] if choice == MovedChoice.PUT_BACK else later["start"]["dateTime"]
    assert now_bob["start"]["dateTime"][:19] == expected[:19]


def test_the_choice_is_put_back_by_default_and_a_bad_one_is_refused(
        client: FlaskClient, launch: Launch, database: Database) -> None:
    launch("owner")
    html = client.get(SETTINGS).get_data(as_text=True)
    assert 'id="moved-put_back" name="moved" value="put_back" checked' in html
    bad = client.post(f"{PAGE}/outlook-changes", data={"moved": "sometimes", "csrf_token": csrf(client)})
    assert bad.status_code == 400
    assert "choose one of the options. Nothing was changed." in bad.get_data(as_text=True)
    assert client.post(f"{PAGE}/outlook-changes", data={"moved": "leave"}).status_code == 400  # no CSRF token
    with database.session() as session:
        assert account_settings.read(session, ACCOUNT).moved_choice == MovedChoice.PUT_BACK
    saved = client.post(f"{PAGE}/outlook-changes", data={"moved": "leave", "csrf_token": csrf(client)},
                        follow_redirects=True)
    assert "will be left where the user put them" in saved.get_data(as_text=True)
    assert 'value="leave" checked' in saved.get_data(as_text=True)


def test_a_learner_cannot_change_the_choice(client: FlaskClient, launch: Launch, database: Database) -> None:
    launch("learner")
    refused = client.post(f"{PAGE}/outlook-changes", data={"moved": "leave", "csrf_token": csrf(client)})
    assert refused.status_code == 403
    with database.session() as session:
        assert account_settings.read(session, ACCOUNT).moved_choice == MovedChoice.PUT_BACK

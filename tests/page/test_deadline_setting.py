"""The page's deadline setting (offered, reminder, done → remove or keep) and the deadline counts in
the users table ("of which N deadlines" inside the Entries cell)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from bridge.codes import EntryState, WhenDone
from bridge.db import Database
from bridge.lms import settings as account_settings
from bridge.lms.settings import AccountSettings
from bridge.sync import store
from tests.page.conftest import ACCOUNT, Launch, csrf, every_section, user
from tests.page.test_roles import connected

PAGE = "/integrations/outlook"


def chosen(database: Database) -> AccountSettings:
    with database.session() as session:
        return account_settings.read(session, ACCOUNT)


@pytest.fixture
def ready(database: Database, hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, [user("u-ada", "ada@contoso.example", "Ada Lovelace"),
                    user("u-bob", "bob@contoso.example", "Bob Builder")])
    connected(database)
    later = datetime.now(UTC) + timedelta(days=3)
    with database.session() as session:  # Ada has a session's entry and two deadlines'; Bob one session's
        for uid, event, session_id in (("u-ada", "e1", "s1"), ("u-ada", "a1", ""), ("u-ada", "a2", ""),
                                       ("u-bob", "e1", "s1")):
            store.upsert_entries(session, [{
                "account_id": ACCOUNT, "user_id": uid, "event_id": event, "session_id": session_id,
                "tenant_id": "t", "mailbox_id": uid, "graph_event_id": f"g-{uid}-{event}", "transaction_id": "x",
                "tag": f"tag-{uid}-{event}", "state": EntryState.ACTIVE, "payload_hash": "h", "material_hash": "m",
                "starts_at": later, "ends_at": later, "updated_at": later}])
        store.set_user_states(session, ACCOUNT, {"u-ada": ("synced", None, None), "u-bob": ("synced", None, None)})


def test_the_entries_cell_says_how_many_are_deadlines(client: FlaskClient, launch: Launch, ready: None) -> None:
    launch("owner")
    html = client.get(f"{PAGE}/users").get_data(as_text=True)
    ada = next(row for row in html.split("<tr>") if "Ada Lovelace" in row)
    bob = next(row for row in html.split("<tr>") if "Bob Builder" in row)
    assert '>3<span class="of-which">of which 2 deadlines</span>' in ada
    assert "of-which" not in bob


def test_the_card_shows_the_defaults(client: FlaskClient, launch: Launch, ready: None) -> None:
    launch("owner")
    html = every_section(client)
    assert 'id="deadlines-title"' in html
    assert 'id="deadlines-offered" name="offered" checked' in html
    assert 'name="deadline_reminder"' in html and 'value="1440"' in html
    assert 'value="remove" checked' in html


def test_managers_change_the_deadline_setting(
        client: FlaskClient, launch: Launch, database: Database, ready: None) -> None:
    launch("owner")
    answer = client.post(f"{PAGE}/deadlines", data={"deadline_reminder": "", "when_done": "keep",
                                                    "csrf_token": csrf(client)})  # the box unticked
    assert answer.status_code == 303
    saved = chosen(database)
    assert (saved.deadlines_offered, saved.deadline_reminder_minutes, saved.when_done) == (False, None, WhenDone.KEEP)
    html = every_section(client)
    assert 'id="deadlines-offered" name="offered">' in html and 'value="keep" checked' in html
    client.post(f"{PAGE}/deadlines", data={"offered": "on", "deadline_reminder": "60", "when_done": "remove",
                                           "csrf_token": csrf(client)})
    saved = chosen(database)
    assert (saved.deadlines_offered, saved.deadline_reminder_minutes, saved.when_done) == (True, 60, WhenDone.REMOVE)


@pytest.mark.parametrize(("form", "says"), [
    ({"deadline_reminder": "40321", "when_done": "remove"}, "from 0 to 40320"),
    ({"deadline_reminder": "a day", "when_done": "remove"}, "from 0 to 40320"),
    ({"deadline_reminder": "60", "when_done": "archive"}, "choose what happens when a learner is done"),
])
def test_a_bad_value_is_named_and_nothing_saved(client: FlaskClient, launch: Launch, database: Database,
                                                ready: None, form: dict[str, str], says: str) -> None:
    launch("owner")
    answer = client.post(f"{PAGE}/deadlines", data={**form, "csrf_token": csrf(client)})
    assert answer.status_code == 400 and says in answer.get_data(as_text=True)
    assert chosen(database) == account_settings.DEFAULTS


def test_only_managers_change_it(client: FlaskClient, launch: Launch, database: Database, ready: None) -> None:
    launch("learner", user_id="u-bob")
    assert 'id="deadlines-title"' not in client.get(PAGE).get_data(as_text=True)
    refused = client.post(f"{PAGE}/deadlines", data={"when_done": "keep", "csrf_token": csrf(client)})
    assert refused.status_code == 403 and chosen(database) == account_settings.DEFAULTS

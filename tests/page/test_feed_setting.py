"""The page's calendar-feed setting and the per-user "calendar feed offered" note."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from bridge.codes import FeedMode
from bridge.db import Database
from bridge.lms import settings as account_settings
from bridge.models import Connection
from bridge.sync import store
from tests.page.conftest import ACCOUNT, Launch, csrf, every_section, user
from tests.page.test_roles import connected

PAGE = "/integrations/outlook"


def mode(database: Database) -> str:
    with database.session() as session:
        return account_settings.read(session, ACCOUNT).feed_mode


@pytest.fixture
def ready(database: Database, hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, [user("u-ada", "ada@contoso.example", "Ada Lovelace"),
                    user("u-gil", "gil@gmail.com", "Gil Gmail"),
                    user("u-oli", "oli@contoso.example", "Oli Onprem")])
    connected(database)
    with database.session() as session:
        row = session.get(Connection, ACCOUNT)
        assert row is not None
        row.verified_domains = ["contoso.example"]
        store.set_user_state(session, ACCOUNT, "u-oli", "failed", "mailbox_not_in_exchange_online")
        store.set_user_state(session, ACCOUNT, "u-ada", "synced", None)


def offered_names(html: str) -> set[str]:
    rows = html.split("<tr>")[2:]
    return {name for row in rows if "Calendar feed offered" in row
            for name in ("Ada Lovelace", "Gil Gmail", "Oli Onprem") if name in row}


def test_users_graph_cannot_reach_are_shown_as_offered_a_feed(
        client: FlaskClient, launch: Launch, database: Database, ready: None) -> None:
    launch("owner")
    html = every_section(client)
    assert 'id="feeds-title"' in html
    assert offered_names(html) == {"Gil Gmail", "Oli Onprem"}


@pytest.mark.parametrize(("chosen", "offered"), [
    ("everyone", {"Ada Lovelace", "Gil Gmail", "Oli Onprem"}), ("off", set()),
    ("unreachable", {"Gil Gmail", "Oli Onprem"}),
])
def test_managers_choose_who_is_offered_feeds(
        client: FlaskClient, launch: Launch, database: Database, ready: None, chosen: str, offered: set[str]) -> None:
    launch("owner")
    client.get(PAGE)
    answer = client.post(f"{PAGE}/feeds", data={"feed_mode": chosen, "csrf_token": csrf(client)})
    assert answer.status_code == 303
    assert mode(database) == chosen
    html = every_section(client)
    assert f'value="{chosen}" checked' in html  # the saved choice is shown
    assert offered_names(html) == offered


def test_a_bad_choice_or_missing_csrf_changes_nothing(
        client: FlaskClient, launch: Launch, database: Database, ready: None) -> None:
    launch("owner")
    client.get(PAGE)
    bad = client.post(f"{PAGE}/feeds", data={"feed_mode": "all", "csrf_token": csrf(client)})
    assert bad.status_code == 400 and "Nothing was changed" in bad.get_data(as_text=True)
    assert client.post(f"{PAGE}/feeds", data={"feed_mode": "off"}).status_code == 400
    assert mode(database) == FeedMode.UNREACHABLE


def test_only_managers_change_it(client: FlaskClient, launch: Launch, database: Database, ready: None) -> None:
    launch("learner", user_id="u-gil")
    html = client.get(PAGE).get_data(as_text=True)
    assert 'id="feeds-title"' not in html
    refused = client.post(f"{PAGE}/feeds", data={"feed_mode": "off", "csrf_token": csrf(client)})
    assert refused.status_code == 403 and mode(database) == FeedMode.UNREACHABLE

"""The page's sections: each at its own address, server-rendered behind the same launch and session, for
managers only (the overview for everyone); what needs attention with its counts and links; actions that
land on their own section; and the pure decisions behind them (plugin.page.sections, plugin.page.attention)."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, update

from bridge.codes import ConnectionState, CredentialLevel, TenantReason, UserState
from bridge.db import Database
from bridge.graph import errors
from bridge.models import DirtyKey
from bridge.sync import store
from bridge.trust import credentials
from plugin.page import attention, sections
from plugin.page.attention import Attention, Need
from plugin.page.sections import Section
from tests.page.conftest import ACCOUNT, ACTIVITY, PAGE, SECTIONS, SETTINGS, USERS, Launch, csrf, user
from tests.page.test_removal_hold import hold
from tests.page.test_roles import connected

CARDS = {  # what each section shows: its cards' headings (ids), none of another section's
    PAGE: ("status-title", "attention-title", "users-title", "health-title", "disconnect-title", "notes-title"),
    USERS: ("users-title", "filter-q", "preview-title"),
    SETTINGS: ("reminder-title", "language-title", "feeds-title", "outlook-changes-title"),
    ACTIVITY: ("audit-title",),
}


@pytest.fixture
def ready(database: Database, hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, [user("u-ada", "ada@contoso.example", "Ada Lovelace"),
                    user("u-bob", "bob@contoso.example", "Bob Builder"),
                    user("u-cy", "cy@contoso.example", "Cy Throttled"),
                    user("u-owner", "olivia@contoso.example", "Olivia Owner", role="owner")])
    connected(database)
    with database.session() as session:
        store.set_user_state(session, ACCOUNT, "u-ada", "failed", "mailbox_not_in_exchange_online", None)
        store.set_user_state(session, ACCOUNT, "u-bob", "failed", "user_not_found", None)
        session.execute(delete(DirtyKey).where(DirtyKey.user_id.in_(["u-ada", "u-bob", "u-owner"])))
        session.execute(update(DirtyKey).where(DirtyKey.user_id == "u-cy").values(
            attempts=1, last_error="429 TooManyRequests"))


def ids(html: str) -> set[str]:
    return set(re.findall(r' id="([^"]+)"', html))


@pytest.mark.usefixtures("ready")
def test_each_section_has_its_address_its_cards_and_says_where_it_is(client: FlaskClient, launch: Launch) -> None:
    launch("owner", user_id="u-owner")
    for path, cards in CARDS.items():
        answer = client.get(path)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'self' https://lms.example.com" in answer.headers["Content-Security-Policy"]
        assert set(cards) <= ids(html), path
        others = {card for other, shown in CARDS.items() if other != path for card in shown} - set(cards)
        assert not others & ids(html), (path, others & ids(html))
        current = re.findall(r'<a href="([^"]+)" aria-current="page">', html)
        assert current == [path], (path, current)
        assert re.findall(r'<nav class="sections".*?</nav>', html, re.S)[0].count("<a ") == 4
        assert "<script>" not in html and "style=" not in html


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize("role", ["instructor", "learner"])
def test_others_get_the_overview_alone(client: FlaskClient, launch: Launch, role: str) -> None:
    launch(role)
    html = client.get(PAGE).get_data(as_text=True)
    assert 'class="sections"' not in html and 'id="attention"' not in html  # no navigation, no list of needs
    assert 'id="users-title"' in html and ">2</span>" in html  # the counts, without links or addresses
    assert "/integrations/outlook/users?" not in html
    for path in (USERS, SETTINGS, ACTIVITY):
        assert client.get(path).status_code == 403


def test_without_a_session_every_section_says_to_open_it_from_the_lms(client: FlaskClient) -> None:
    for path in SECTIONS:
        answer = client.get(path)
        assert answer.status_code == 403 and "Open this page from the LMS" in answer.get_data(as_text=True)


def test_every_section_serves_the_launched_session(client: FlaskClient, launch: Launch) -> None:
    """The session cookie's path covers every section, so a launch in the LMS's frame opens them all."""
    answer = launch("owner")
    assert answer.status_code == 303
    cookie = client.get_cookie("outlook_sync_session", path=PAGE)
    assert cookie is not None and cookie.path == PAGE
    assert [client.get(path).status_code for path in (PAGE, SETTINGS, ACTIVITY)] == [200, 200, 200]


def test_before_connecting_the_users_section_is_not_offered(client: FlaskClient, launch: Launch) -> None:
    launch("owner")
    html = client.get(PAGE).get_data(as_text=True)
    assert f'href="{USERS}"' not in html and f'href="{SETTINGS}"' in html
    answer = client.get(USERS)
    assert answer.status_code == 303 and answer.headers["Location"] == PAGE
    settings = client.get(SETTINGS).get_data(as_text=True)  # the cards that need a connection wait for one
    assert "feeds-title" in settings and "outlook-changes-title" in settings and "reminder-title" not in settings


@pytest.mark.usefixtures("ready")
def test_the_overview_lists_what_needs_attention_with_counts_and_where_it_is_fixed(
        client: FlaskClient, launch: Launch, database: Database) -> None:
    hold(database)
    with database.session() as session:
        credentials.store(session, "current", errors.AuthFailed("x", TenantReason.SECRET_EXPIRED, code="7000222"),
                          datetime.now(UTC))
    launch("owner", user_id="u-owner")
    html = client.get(PAGE).get_data(as_text=True)
    needs = re.findall(r'<li class="need need-(\w+)">\s*<a href="([^"]+)">([^<]+)</a>', html)
    assert needs == [
        ("held_removals", f"{PAGE}#hold", "240 future entries wait for confirmation before they are removed"),
        ("credentials", f"{PAGE}#credentials", "1 credential of the plugin expires soon or is refused"),
        ("failed_users", f"{USERS}?state=failed", "2 users could not be synced"),
        ("throttled", f"{USERS}?state=retrying", "1 user waits after Microsoft throttled the plugin"),
    ]
    assert 'id="hold"' in html and 'id="credentials"' in html  # the anchors the links lead to
    failed = client.get(f"{USERS}?state=failed").get_data(as_text=True)
    assert "Ada Lovelace" in failed and "Bob Builder" in failed and "Cy Throttled" not in failed
    assert "/users/u-ada/retry" in failed


@pytest.mark.usefixtures("ready")
def test_when_nothing_needs_attention_the_overview_says_so(client: FlaskClient, launch: Launch,
                                                             database: Database) -> None:
    with database.session() as session:
        store.set_user_state(session, ACCOUNT, "u-ada", "synced", None, None)
        store.set_user_state(session, ACCOUNT, "u-bob", "synced", None, None)
        session.execute(delete(DirtyKey))
    launch("owner", user_id="u-owner")
    html = client.get(PAGE).get_data(as_text=True)
    assert "Nothing needs your attention." in html and 'class="need ' not in html


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize(("action", "form", "section"), [
    ("reminder", {"reminder_minutes": "30"}, SETTINGS), ("language", {"locale": "ru"}, SETTINGS),
    ("feeds", {"feed_mode": "off"}, SETTINGS), ("outlook-changes", {"moved": "leave"}, SETTINGS),
    ("resync", {}, USERS), ("users/u-ada/retry", {}, USERS), ("removals/confirm", {}, PAGE),
    ("disconnect", {"confirm": "yes"}, PAGE),
])
def test_a_done_action_lands_on_its_section(client: FlaskClient, launch: Launch, action: str, form: dict[str, str],
                                            section: str) -> None:
    launch("owner", user_id="u-owner")
    answer = client.post(f"{PAGE}/{action}", data={"csrf_token": csrf(client), **form})
    assert answer.status_code == 303 and answer.headers["Location"] == section


@pytest.mark.usefixtures("ready")
def test_a_refused_setting_is_shown_on_the_settings_with_the_reason(client: FlaskClient, launch: Launch) -> None:
    launch("owner", user_id="u-owner")
    answer = client.post(f"{PAGE}/reminder", data={"csrf_token": csrf(client), "reminder_minutes": "99999"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Nothing was saved." in html and 'value="99999"' in html
    assert f'<a href="{SETTINGS}" aria-current="page">' in html and 'id="feeds-title"' in html


# The pure decisions: which sections, which settings cards, where the preview goes, what needs attention.
@pytest.mark.parametrize(("manages", "state", "expected"), [
    (False, ConnectionState.CONNECTED, (Section.OVERVIEW,)),  # others: the overview alone
    (True, ConnectionState.DISCONNECTED, (Section.OVERVIEW, Section.SETTINGS, Section.ACTIVITY)),  # no users yet
    (True, ConnectionState.CONSENT_RECEIVED, (Section.OVERVIEW, Section.SETTINGS, Section.ACTIVITY)),
    (True, ConnectionState.CONNECTED, tuple(Section)),
    (True, ConnectionState.SUSPENDED, tuple(Section)),  # the table stays while access is fixed
    (True, ConnectionState.DISCONNECTING, tuple(Section)),  # the table shows the removal's progress
])
def test_open_sections(manages: bool, state: str, expected: tuple[Section, ...]) -> None:
    assert sections.open_sections(manages, state) == expected


def test_setting_cards_and_the_preview_follow_the_state() -> None:
    assert sections.setting_cards(ConnectionState.CONNECTED) == ("reminder", "language", "feeds", "outlook_changes",
                                                                 "deadlines")
    assert sections.setting_cards(ConnectionState.DISCONNECTED) == ("feeds", "outlook_changes", "deadlines")
    assert sections.preview_section(ConnectionState.CONSENT_RECEIVED) is Section.OVERVIEW
    assert sections.preview_section(ConnectionState.CONNECTED) is Section.USERS
    assert [s.endpoint for s in Section] == ["outlook_page.index", "outlook_page.users", "outlook_page.settings",
                                             "outlook_page.activity"]


@pytest.mark.parametrize(("counts", "held", "creds", "throttled", "expected"), [
    ({}, 0, [], 0, ()),  # nothing: an empty list
    ({UserState.SYNCED: 9, UserState.SKIPPED: 3}, 0, [(CredentialLevel.OK, False)], 0, ()),  # skips are no fault
    ({}, 0, [(CredentialLevel.UNKNOWN, False)], 0, ()),  # no end date known: the health card says so, nothing due
    ({}, 0, [(CredentialLevel.OK, True)], 0, (Need.CREDENTIALS,)),  # refused by Azure AD
    ({}, 0, [(CredentialLevel.NOTICE, False), (CredentialLevel.EXPIRED, False)], 0, (Need.CREDENTIALS,)),
    ({UserState.FAILED: 2}, 0, [], 1, (Need.FAILED_USERS, Need.THROTTLED)),
    ({UserState.FAILED: 1}, 7, [(CredentialLevel.WARNING, False)], 2,
     (Need.HELD_REMOVALS, Need.CREDENTIALS, Need.FAILED_USERS, Need.THROTTLED)),  # most urgent first
])
def test_what_needs_attention(counts: dict[str, int], held: int, creds: list[tuple[str, bool]], throttled: int,
                              expected: tuple[Need, ...]) -> None:
    found = attention.needs(counts, held, creds, throttled)
    assert tuple(a.need for a in found) == expected
    assert all(a.count > 0 for a in found)


def test_each_need_leads_where_it_is_fixed() -> None:
    found = {a.need: a for a in attention.needs({UserState.FAILED: 3}, 5, [(CredentialLevel.CRITICAL, False),
                                                                         (CredentialLevel.OK, True)], 4)}
    assert found[Need.HELD_REMOVALS] == Attention(Need.HELD_REMOVALS, 5, Section.OVERVIEW, anchor="hold")
    assert found[Need.CREDENTIALS] == Attention(Need.CREDENTIALS, 2, Section.OVERVIEW, anchor="credentials")
    assert found[Need.FAILED_USERS] == Attention(Need.FAILED_USERS, 3, Section.USERS, {"state": UserState.FAILED})
    assert found[Need.THROTTLED] == Attention(Need.THROTTLED, 4, Section.USERS, {"state": UserState.RETRYING})

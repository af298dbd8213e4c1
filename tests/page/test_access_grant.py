"""Only the LMS's people, end to end over the page and the real emulator (RBAC for Applications): the
choice before the consent link, the second registration's consent (directory permissions only), the
Exchange administrator's PowerShell block, Connect integration without the calendar role in the token,
the preview's in/out list, the sync writing in-scope mailboxes only, and the broad Entra grant told.
Runs on SQLite and PostgreSQL (the ``database`` fixture)."""
from __future__ import annotations

import html
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from bridge.accounts import connection, consent, status
from bridge.codes import AccessGrant, ConnectionState
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.lms import grant
from bridge.trust import preview_store
from bridge.trust.preview import PreviewRun
from bridge.worker.loop import Worker
from emulator.testing import EmulatorHandle
from plugin import create_app
from tests.page import lms_sample
from tests.page.conftest import (
    ACCOUNT,
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    DOMAIN,
    USERS,
    Launch,
    csrf,
    make_launch,
)

PAGE = "/integrations/outlook"
SCOPED_ID = "6a1d2c3b-0f4e-4a5b-9c8d-000000000025"
SCOPED_SECRET = "scoped-secret-" + secrets.token_hex(8)
DIRECTORY_ONLY = ["User.Read.All", "Domain.Read.All"]
GROUP = "LMS people"


@pytest.fixture
def settings(database: Database, emulator: EmulatorHandle) -> Settings:
    """The plugin with its second registration (only the LMS's people), both registered in the emulator."""
    emulator.admin.reset()
    emulator.admin.register_app(CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK])
    emulator.admin.register_app(SCOPED_ID, client_secret=SCOPED_SECRET, redirect_uris=[CALLBACK],
                                required_roles=DIRECTORY_ONLY)
    emulator.admin.set_limits(rbac_cache_idle_seconds=0, rbac_cache_max_seconds=0)
    return Settings(host_secret="page-host-secret-0123456789", secret_key="page-secret-key-0123456789",
                    client_id=CLIENT_ID, client_secret=CLIENT_SECRET, database_url=database.url,
                    public_url="http://localhost", authority_url=emulator.base_url, graph_url=emulator.graph_url,
                    ca_bundle=emulator.ca_path, worker_concurrency=4, scoped_client_id=SCOPED_ID,
                    scoped_client_secret=SCOPED_SECRET)


@pytest.fixture
def contoso(emulator: EmulatorHandle, settings: Settings) -> dict[str, Any]:
    """A tenant: Olivia in the group directly, Ada outside it, Nina only through a nested group."""
    made = emulator.admin.create_tenant("Contoso " + secrets.token_hex(3), [DOMAIN])
    for name, kind in (("olivia", "exchange_online"), ("ada", "exchange_online"), ("nina", "exchange_online"),
                       ("old", "on_premises")):
        emulator.admin.create_user(made["id"], f"{name}@{DOMAIN}", mail=f"{name}@{DOMAIN}",
                                   display_name=name.capitalize(), mailbox=kind)
    inner = emulator.admin.create_group(made["id"], "Instructors", members=[f"nina@{DOMAIN}"])
    group = emulator.admin.create_group(made["id"], GROUP, members=[f"olivia@{DOMAIN}", inner["id"]])
    return {"id": made["id"], "group": group}


def page(client: FlaskClient, path: str = PAGE) -> str:
    return html.unescape(client.get(path).get_data(as_text=True))


def link(client: FlaskClient) -> str:
    text = client.get(PAGE).get_data(as_text=True)
    start = text.index('id="consent-link"')
    value = text[text.index('value="', start) + 7:]
    return html.unescape(value[:value.index('"')])


def exchange_admin_runs_the_block(emulator: EmulatorHandle, tenant: dict[str, Any]) -> None:
    """What the page's PowerShell block does, through the emulator's Exchange cmdlets."""
    tid = tenant["id"]
    object_id = next(t for t in emulator.admin.tenants() if t["id"] == tid)["consents"][SCOPED_ID]["object_id"]
    emulator.admin.new_service_principal(tid, SCOPED_ID, object_id, grant.SCOPE_NAME)
    emulator.admin.new_management_scope(tid, grant.SCOPE_NAME,
                                        f"MemberOfGroup -eq '{tenant['group']['distinguishedName']}'")
    emulator.admin.new_role_assignment(tid, grant.EXCHANGE_ROLE, SCOPED_ID, custom_resource_scope=grant.SCOPE_NAME)
    test = emulator.admin.test_service_principal_authorization(tid, SCOPED_ID, resource=f"olivia@{DOMAIN}")
    assert any(row.get("InScope") is True for row in test), test


def test_only_the_lms_people_connects_syncs_in_scope_and_names_the_others(
        client: FlaskClient, launch: Launch, database: Database, settings: Settings, emulator: EmulatorHandle,
        contoso: dict[str, Any], hooks: Callable[..., object]) -> None:
    nina_picks = ("enrollment.upserted", {"event_id": "e-safety", "user_id": "u-nina", "session_id": "s-2",
                                          "version": 2})
    hooks(ACCOUNT, [*lms_sample.deliveries(datetime.now(UTC)), nina_picks])
    launch("owner", user_id="u-owner")
    before = page(client)
    assert 'name="grant" value="exchange_scope"' in before and "Only the LMS's people" in before

    answer = client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client), "grant": "exchange_scope",
                                                  "scope_group": f"  {GROUP} "})
    assert answer.status_code == 303
    query = parse_qs(urlsplit(link(client)).query)
    assert query["client_id"] == [SCOPED_ID]  # the consent asks only for the directory permissions
    with database.session() as session:
        assert grant.read(session, ACCOUNT) == grant.Grant(AccessGrant.EXCHANGE_SCOPE, GROUP, None)

    shown = page(client)
    assert "New-ManagementRoleAssignment -App $sp.AppId -Role 'Application Calendars.ReadWrite' " \
           "-CustomResourceScope 'Outlook Calendar for the LMS'" in shown
    assert f"appId eq '{SCOPED_ID}'" in shown and f"Get-DistributionGroup -Identity '{GROUP}'" in shown
    assert "Test-ServicePrincipalAuthorization" in shown and "Grants add up." in shown
    assert "Only direct members count." in shown and 'data-copy-target="powershell-block"' in shown

    target = urlsplit(lms_sample.accept_on_emulator(link(client), emulator.ca_path))
    assert client.get(target.path, query_string=target.query).status_code == 200

    def preview() -> str:
        with database.session() as session:
            assert preview_store.start(session, ACCOUNT, "u-owner", datetime.now(UTC))
        PreviewRun(database, Graph.from_settings(settings), ACCOUNT, concurrency=2).run()
        return page(client)

    assert "Nobody is in the scope yet: has the Exchange administrator run the PowerShell block above?" in preview()
    exchange_admin_runs_the_block(emulator, contoso)
    listed = preview()
    assert "Nobody is in the scope yet" not in listed
    assert "In the plugin's scope in Exchange: 1 user (their calendar answered)." in listed
    assert "Outside it: 3 users, listed below." in listed  # Ada, Nina (nested group), Oscar (not in the group)
    told = (f"Outside the plugin's scope in Exchange: add them to the group {GROUP} "
            "(directly, not through a nested group)")
    assert listed.count(told) == 4 and "Ada Lovelace" in listed and "Nina Nosession" in listed  # summary + 3

    assert client.post(f"{PAGE}/activate", data={"csrf_token": csrf(client)}).status_code == 303
    Worker(database, Graph.from_settings(settings), concurrency=4).drain(timeout=60)
    events = {m["userPrincipalName"]: m["events"] for m in emulator.admin.mailboxes(contoso["id"]).values()}
    assert len(events[f"olivia@{DOMAIN}"]) == 2
    assert events[f"ada@{DOMAIN}"] == [] and events[f"nina@{DOMAIN}"] == []  # never written
    users = page(client, USERS)
    assert users.count(told) >= 3 and "Ada Lovelace" in users
    overview = page(client)
    assert "Connected since" in overview and "tenant-wide Calendars.ReadWrite grant is still there" not in overview
    assert "in the plugin's Exchange scope" in overview and "calendars of your organisation" not in overview

    # The fix the page names: Ada added to the group itself, then Retry writes her entry
    emulator.admin.add_group_member(contoso["id"], contoso["group"]["id"], f"ada@{DOMAIN}")
    assert client.post(f"{PAGE}/users/u-ada/retry", data={"csrf_token": csrf(client)}).status_code == 303
    Worker(database, Graph.from_settings(settings), concurrency=4).drain(timeout=60)
    assert len(emulator.admin.events(contoso["id"], f"ada@{DOMAIN}")) == 1
    assert emulator.admin.events(contoso["id"], f"nina@{DOMAIN}") == []


def test_the_broad_grant_beside_the_scope_is_told(
        client: FlaskClient, launch: Launch, database: Database, settings: Settings, emulator: EmulatorHandle,
        contoso: dict[str, Any]) -> None:
    launch("owner", user_id="u-owner")
    client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client), "grant": "exchange_scope", "scope_group": GROUP})
    target = urlsplit(lms_sample.accept_on_emulator(link(client), emulator.ca_path))
    client.get(target.path, query_string=target.query)
    emulator.admin.grant_consent(contoso["id"], SCOPED_ID, roles=[*DIRECTORY_ONLY, "Calendars.ReadWrite"])
    assert client.post(f"{PAGE}/activate", data={"csrf_token": csrf(client)}).status_code == 303
    overview = page(client)
    assert "Every mailbox is still reachable: the tenant-wide Calendars.ReadWrite grant is still there" in overview
    assert 'href="/integrations/outlook#access"' in overview  # the attention item leads to the card

    emulator.admin.grant_consent(contoso["id"], SCOPED_ID, roles=DIRECTORY_ONLY)  # the administrator removes it
    connection.check_tenant(database, Graph.from_settings(settings), ACCOUNT, datetime.now(UTC))
    assert "tenant-wide Calendars.ReadWrite grant is still there" not in page(client)


@pytest.mark.parametrize(("form", "words"), [
    ({"grant": "everyone"}, "Choose how the organisation grants access"),
    ({"grant": "exchange_scope", "scope_group": "   "}, "Name the mail-enabled security group"),
    ({"grant": "exchange_scope", "scope_group": "LMS\npeople"}, "on one line"),
    ({"grant": "exchange_scope", "scope_group": "x" * 257}, "at most 256 characters"),
])
def test_a_bad_choice_is_refused_and_nothing_stored(client: FlaskClient, launch: Launch, settings: Settings,
                                                    rows: Callable[[], dict[str, int]], form: dict[str, str],
                                                    words: str) -> None:
    launch("owner")
    token = csrf(client)
    before = rows()
    answer = client.post(f"{PAGE}/connect", data={"csrf_token": token, **form})
    assert answer.status_code == 400
    assert words in html.unescape(answer.get_data(as_text=True)) and "Nothing was saved." in \
        html.unescape(answer.get_data(as_text=True))
    assert rows() == before


def test_without_the_second_registration_only_the_whole_organisation_is_offered(
        database: Database, settings: Settings, rows: Callable[[], dict[str, int]]) -> None:
    alone = create_app(replace(settings, scoped_client_id=None, scoped_client_secret=None), database).test_client()
    make_launch(alone)("owner")
    shown = page(alone)
    assert 'value="exchange_scope" disabled' in shown and "OUTLOOK_SYNC_SCOPED_CLIENT_ID" in shown
    before = rows()
    answer = alone.post(f"{PAGE}/connect", data={"csrf_token": csrf(alone), "grant": "exchange_scope",
                                                 "scope_group": GROUP})
    assert answer.status_code == 400 and rows() == before
    assert "second app registration" in html.unescape(answer.get_data(as_text=True))


def test_the_way_is_kept_while_connected(client: FlaskClient, launch: Launch, database: Database,
                                         settings: Settings, rows: Callable[[], dict[str, int]]) -> None:
    launch("owner")
    with database.session() as session:
        connection.connection(session, ACCOUNT).state = ConnectionState.CONNECTED
    before = rows()
    answer = client.post(f"{PAGE}/access", data={"csrf_token": csrf(client), "grant": "exchange_scope",
                                                 "scope_group": GROUP})
    assert answer.status_code == 409 and rows() == before
    assert "Disconnect first" in html.unescape(answer.get_data(as_text=True))


def test_two_accounts_one_scoped_one_whole_organisation_sync_side_by_side(
        database: Database, settings: Settings, emulator: EmulatorHandle, contoso: dict[str, Any],
        hooks: Callable[..., object]) -> None:
    """One worker, two accounts: each tenant is reached through the registration its account chose, and
    the scoped account's refusals touch nobody of the other."""
    fabrikam = emulator.admin.create_tenant("Fabrikam", ["fabrikam.example"])
    emulator.admin.create_user(fabrikam["id"], "ann@fabrikam.example", mail="ann@fabrikam.example",
                               display_name="Ann", mailbox="exchange_online")
    emulator.admin.create_user(fabrikam["id"], "bo@fabrikam.example", mail="bo@fabrikam.example",
                               display_name="Bo", mailbox="exchange_online")
    emulator.admin.grant_consent(fabrikam["id"], CLIENT_ID)
    emulator.admin.grant_consent(contoso["id"], SCOPED_ID)
    exchange_admin_runs_the_block(emulator, contoso)
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)))
    day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=2)
    hooks("fabrikam", [
        ("user.upserted", {"id": f"u-{n}", "email": f"{n}@fabrikam.example", "name": n.title(), "active": True,
                           "role": "learner", "timezone": "Europe/Berlin", "version": 1}) for n in ("ann", "bo")] + [
        ("event.upserted", {"id": "e-f", "title": "Induction", "description": None, "organizer_id": "u-ann",
                            "url": "https://lms.example.com/events/e-f", "location": None, "online_url": None,
                            "timezone": "Europe/Berlin", "cancelled": False, "version": 1,
                            "sessions": [{"id": "s-f", "title": None, "start": day.isoformat(),
                                          "end": (day + timedelta(hours=1)).isoformat()}]}),
        ("enrollment.upserted", {"event_id": "e-f", "user_id": "u-bo", "session_id": "s-f", "version": 1})])
    graph = Graph.from_settings(settings)
    for account, tenant_id, way in ((ACCOUNT, contoso["id"], AccessGrant.EXCHANGE_SCOPE),
                                    ("fabrikam", fabrikam["id"], AccessGrant.ORGANISATION)):
        with database.session() as session:
            grant.choose(session, account, way, GROUP if way is AccessGrant.EXCHANGE_SCOPE else None)
            connection.consent_received(session, account, tenant_id, datetime.now(UTC))
        consent.connect(database, graph, account, "owner", datetime.now(UTC))
    Worker(database, graph, concurrency=4).drain(timeout=60)
    mine = {m["userPrincipalName"]: len(m["events"]) for m in emulator.admin.mailboxes(contoso["id"]).values()}
    theirs = {m["userPrincipalName"]: len(m["events"]) for m in emulator.admin.mailboxes(fabrikam["id"]).values()}
    assert (mine[f"olivia@{DOMAIN}"], mine[f"ada@{DOMAIN}"]) == (2, 0)
    assert theirs == {"ann@fabrikam.example": 1, "bo@fabrikam.example": 1}
    with database.session() as session:
        rows, _ = status.users(session, "fabrikam", search=None, limit=10)
        assert {(r.user_id, r.state, r.reason) for r in rows} == {("u-ann", "synced", None), ("u-bo", "synced", None)}
        rows, _ = status.users(session, ACCOUNT, search=None, limit=10)
        assert {r.user_id: r.reason for r in rows}["u-ada"] == "outside_exchange_scope"
        assert connection.connection(session, ACCOUNT).state == connection.connection(session, "fabrikam").state \
            == ConnectionState.CONNECTED


def test_the_choice_and_the_block_in_russian(client: FlaskClient, launch: Launch, settings: Settings) -> None:
    launch("owner", locale="ru")
    assert "Только люди LMS" in page(client) and "Вся организация" in page(client)
    client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client), "grant": "exchange_scope", "scope_group": GROUP})
    shown = page(client)
    assert "Только люди LMS: для администратора Exchange" in shown and "Две ловушки" in shown
    assert "Разрешения складываются." in shown and "Считаются только прямые участники." in shown
    assert f"Get-DistributionGroup -Identity '{GROUP}'" in shown  # the block itself stays PowerShell

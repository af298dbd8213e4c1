"""Connect → consent on the emulator → Connect integration → sync, reminder, disconnect; and the plain
words for every way Connect integration can fail. Runs against the real emulator."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from bridge.accounts import connection
from bridge.codes import ConnectionState
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.models import Connection
from bridge.worker.loop import Worker
from emulator.testing import EmulatorHandle
from plugin import create_app
from tests.page import lms_sample
from tests.page.conftest import (
    ACCOUNT,
    CLIENT_ID,
    CLIENT_SECRET,
    USERS,
    Launch,
    Tenant,
    consent_state,
    csrf,
    emulator_settings,
    make_launch,
)

PAGE = "/integrations/outlook"


@pytest.fixture
def settings(database: Database, emulator: EmulatorHandle) -> Settings:
    return emulator_settings(database, emulator)


def drain(database: Database, settings: Settings) -> None:
    Worker(database, Graph.from_settings(settings), concurrency=4).drain(timeout=60)


def link(client: FlaskClient) -> str:
    page = client.get(PAGE).get_data(as_text=True)
    start = page.index('id="consent-link"')
    value = page[page.index('value="', start) + 7:]
    return value[:value.index('"')].replace("&amp;", "&")


def consent(client: FlaskClient, emulator: EmulatorHandle, action: str = "accept") -> str:
    """Connect, then the Azure AD admin answers on the emulator's page; returns the callback page."""
    client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client)})
    target = urlsplit(lms_sample.accept_on_emulator(link(client), emulator.ca_path, action=action))
    assert target.path == f"{PAGE}/consent"
    answer = client.get(target.path, query_string=target.query)
    return f"{answer.status_code} {html.unescape(answer.get_data(as_text=True))}"


def activate(client: FlaskClient) -> tuple[int, str]:
    answer = client.post(f"{PAGE}/activate", data={"csrf_token": csrf(client)})
    return answer.status_code, html.unescape(answer.get_data(as_text=True))


def conn(database: Database) -> Connection:
    with database.session() as session:
        return connection.connection(session, ACCOUNT)


def test_the_whole_flow_over_the_page(client: FlaskClient, launch: Launch, database: Database, settings: Settings,
                                      tenant: Tenant, emulator: EmulatorHandle,
                                      hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)))
    launch("owner", user_id="u-owner")
    assert consent(client, emulator).startswith("200")
    status, _ = activate(client)
    assert status == 303
    page = client.get(PAGE).get_data(as_text=True)
    assert "Connected since" in page and "Olivia Owner" in page and tenant.id in page
    drain(database, settings)
    page = client.get(USERS).get_data(as_text=True)
    for words in ("Personal e-mail address (not synced)", "Mailbox not in Exchange Online (on-premises or "
                  "unlicensed): move it to Exchange Online", "Enrolled, but no session chosen yet",
                  "Inactive in the LMS"):
        assert words in page
    mailboxes = emulator.admin.mailboxes(tenant.id)
    events = {m["userPrincipalName"]: m["events"] for m in mailboxes.values()}
    assert len(events["olivia@contoso.example"]) == 2 and len(events["ada@contoso.example"]) == 1
    assert {e["reminderMinutesBeforeStart"] for e in events["ada@contoso.example"]} == {15}

    client.post(f"{PAGE}/reminder", data={"csrf_token": csrf(client), "reminder_minutes": "45"})
    drain(database, settings)
    events = {m["userPrincipalName"]: m["events"] for m in emulator.admin.mailboxes(tenant.id).values()}
    assert {e["reminderMinutesBeforeStart"] for e in events["olivia@contoso.example"]} == {45}

    client.post(f"{PAGE}/reminder", data={"csrf_token": csrf(client), "reminder_minutes": ""})
    drain(database, settings)
    events = {m["userPrincipalName"]: m["events"] for m in emulator.admin.mailboxes(tenant.id).values()}
    assert {e["isReminderOn"] for e in events["ada@contoso.example"]} == {False}

    client.post(f"{PAGE}/disconnect", data={"csrf_token": csrf(client), "confirm": "yes", "remove_entries": "yes"})
    assert conn(database).state == ConnectionState.DISCONNECTING
    drain(database, settings)
    drain(database, settings)  # a new worker's first housekeeping finishes the disconnect
    assert conn(database).state == ConnectionState.DISCONNECTED
    assert all(not m["events"] for m in emulator.admin.mailboxes(tenant.id).values())


def test_connect_integration_before_consent_says_so(client: FlaskClient, launch: Launch, database: Database) -> None:
    launch("owner")
    client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client)})
    status, page = activate(client)
    assert status == 409 and "Admin consent has not been given yet." in page
    assert conn(database).state == ConnectionState.CONSENT_PENDING


def test_declined_on_the_emulator(client: FlaskClient, launch: Launch, database: Database, tenant: Tenant,
                                  emulator: EmulatorHandle) -> None:
    launch("owner")
    page = consent(client, emulator, action="cancel")
    assert page.startswith("200") and "Consent was not given" in page and "AADSTS65004" in page
    assert conn(database).state == ConnectionState.DISCONNECTED


def test_consent_revoked_before_connect_integration(client: FlaskClient, launch: Launch, database: Database,
                                                   tenant: Tenant, emulator: EmulatorHandle) -> None:
    launch("owner")
    consent(client, emulator)
    emulator.admin.revoke_consent(tenant.id, CLIENT_ID)
    status, page = activate(client)
    assert status == 409 and "Consent was revoked in Azure AD" in page
    assert "Press Connect for a new consent link" in page
    assert conn(database).state == ConnectionState.CONSENT_RECEIVED and conn(database).reason == "consent_missing"
    again = client.get(PAGE).get_data(as_text=True)  # the page keeps saying why
    assert "Consent was revoked in Azure AD" in again


def test_connect_integration_with_opaque_tokens(client: FlaskClient, launch: Launch, database: Database,
                                               settings: Settings, tenant: Tenant, emulator: EmulatorHandle,
                                               hooks: Callable[..., object]) -> None:
    """Access tokens are opaque to clients: connecting never depends on reading one."""
    emulator.admin.set_limits(token_format="opaque")
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)))
    launch("owner", user_id="u-owner")
    consent(client, emulator)
    status, _ = activate(client)
    assert status == 303 and conn(database).state == ConnectionState.CONNECTED
    drain(database, settings)
    events = {m["userPrincipalName"]: m["events"] for m in emulator.admin.mailboxes(tenant.id).values()}
    assert len(events["olivia@contoso.example"]) == 2 and len(events["ada@contoso.example"]) == 1


@pytest.mark.parametrize("token_format", ["jwt", "opaque"])
def test_a_missing_permission_is_proven_by_graph_not_by_the_token(
        client: FlaskClient, launch: Launch, database: Database, settings: Settings, tenant: Tenant,
        emulator: EmulatorHandle, hooks: Callable[..., object], token_format: str) -> None:
    """Whether the token is readable (its ``roles`` lack Calendars.ReadWrite) or opaque, Connect integration
    does not judge it (with RBAC for Applications a correctly scoped token carries no calendar role):
    Graph's 403 ErrorAccessDenied on the first calendar call suspends the account, and the page names the
    missing permission."""
    emulator.admin.set_limits(token_format=token_format)
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)))
    launch("owner", user_id="u-owner")
    consent(client, emulator)
    emulator.admin.grant_consent(tenant.id, CLIENT_ID, roles=["User.Read.All", "Domain.Read.All"])
    status, _ = activate(client)
    assert status == 303
    drain(database, settings)
    assert (conn(database).state, conn(database).reason) == (ConnectionState.SUSPENDED, "permission_missing")
    assert "ErrorAccessDenied" in (conn(database).detail or "")
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "Syncing is suspended" in page and "Calendars.ReadWrite application permission" in page
    assert all(not m["events"] for m in emulator.admin.mailboxes(tenant.id).values())


@pytest.fixture
def other_app(database: Database, emulator: EmulatorHandle, tenant: Tenant) -> Iterator[tuple[FlaskClient, str]]:
    """The plugin with an app registration of its own, to break its secret without touching the others'."""
    client_id = "5f0e7a52-0a9e-4e57-9c1b-000000000002"
    emulator.admin.register_app(client_id, client_secret=CLIENT_SECRET, redirect_uris=[
        "http://localhost/integrations/outlook/consent"])
    settings = emulator_settings(database, emulator)
    settings = Settings(**{**settings.__dict__, "client_id": client_id})
    yield create_app(settings, database).test_client(), client_id


@pytest.mark.parametrize(("breakage", "words"), [
    ("expire", "The plugin's client secret has expired."),
    ("wrong", "Azure AD does not accept the plugin's client secret."),
])
def test_a_bad_secret_is_explained(other_app: tuple[FlaskClient, str], database: Database, tenant: Tenant,
                                   emulator: EmulatorHandle, breakage: str, words: str) -> None:
    client, client_id = other_app
    make_launch(client)("owner")
    client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client)})
    emulator.admin.grant_consent(tenant.id, client_id)
    callback = client.get(f"{PAGE}/consent", query_string={"admin_consent": "True", "tenant": tenant.id,
                                                            "state": consent_state(client)})
    assert callback.status_code == 200
    if breakage == "expire":
        emulator.admin.expire_secret(client_id)
    else:
        emulator.admin.register_app(client_id, client_secret="another-secret-entirely", redirect_uris=[
            "http://localhost/integrations/outlook/consent"])
    status, page = activate(client)
    assert status == 409 and words in page and "OUTLOOK_SYNC_CLIENT_SECRET" in page


@pytest.mark.parametrize(("reason", "words"), [
    ("consent_missing", "Consent was revoked in Azure AD"),
    ("permission_missing", "Calendars.ReadWrite"),
    ("secret_invalid", "does not accept the plugin's client secret"),
    ("secret_expired", "client secret has expired"),
    ("tenant_not_found", "no longer exists or was changed"),
    ("app_not_found", "not registered in Azure AD"),
    ("auth_failed", "Azure AD refused"),
])
def test_a_suspended_connection_says_why_and_how_to_resume(client: FlaskClient, launch: Launch,
                                                           database: Database, reason: str, words: str) -> None:
    with database.session() as session:
        row = connection.connection(session, ACCOUNT)
        row.state, row.reason, row.tenant_id = ConnectionState.SUSPENDED, reason, "t-1"
        row.detail = "AADSTS7000222: The provided client secret keys are expired."
    launch("owner")
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "Syncing is suspended" in page and words in page and "Nothing is lost" in page
    assert ">Connect integration<" in page and ">Connect<" in page and "Details from Azure AD" in page
    launch("learner")
    read_only = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert words in read_only and 'method="post"' not in read_only

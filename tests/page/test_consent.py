"""The consent callback: each outcome in plain words; ``state`` is single-use, expires and is bound
to the account that made it, whoever's browser opens it."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.accounts import connection
from bridge.codes import ConnectionState
from bridge.db import Database
from bridge.models import ConsentRequest, Entry
from tests.page.conftest import ACCOUNT, Launch, consent_state, csrf, make_launch

PAGE = "/integrations/outlook"
CALLBACK = f"{PAGE}/consent"
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def issue(client: FlaskClient, launch: Launch, account: str = ACCOUNT) -> str:
    launch("owner", account=account)
    client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client)})
    return consent_state(client)


def conn(database: Database, account: str = ACCOUNT) -> tuple[str, str | None]:
    with database.session() as session:
        row = connection.connection(session, account)
        return row.state, row.tenant_id


def claimed(database: Database, account: str = ACCOUNT) -> str | None:
    """The tenant the last accepted consent names, not yet proven by Connect integration."""
    with database.session() as session:
        return connection.connection(session, account).claimed_tenant_id


def accept(client: FlaskClient, state: str, tenant: str = TENANT) -> str:
    answer = client.get(CALLBACK, query_string={"admin_consent": "True", "tenant": tenant, "state": state})
    return f"{answer.status_code} {answer.get_data(as_text=True)}"


def test_accepted_consent_says_so_and_points_back_to_the_lms(client: FlaskClient, launch: Launch,
                                                             database: Database) -> None:
    state = issue(client, launch)
    assert conn(database) == (ConnectionState.CONSENT_PENDING, None)
    fresh = client.application.test_client()  # the Azure AD admin, in another browser
    page = accept(fresh, state)
    assert page.startswith("200") and "Consent given" in page and TENANT in page
    assert "Settings → Integrations → Microsoft Outlook Calendar" in page and "Connect integration" in page
    assert "Back to the settings page" not in page  # that browser has no session for the account
    assert conn(database) == (ConnectionState.CONSENT_RECEIVED, None) and claimed(database) == TENANT
    owner_page = client.get(PAGE).get_data(as_text=True)
    assert "Consent received" in owner_page and TENANT in owner_page and ">Connect integration<" in owner_page


def test_the_owner_opening_the_link_gets_a_way_back_to_the_page(client: FlaskClient, launch: Launch) -> None:
    page = accept(client, issue(client, launch))
    assert 'href="/integrations/outlook">Back to the settings page' in page


def test_a_link_works_once(client: FlaskClient, launch: Launch, database: Database) -> None:
    state = issue(client, launch)
    assert accept(client, state).startswith("200")
    again = accept(client, state, tenant="11111111-2222-3333-4444-555555555555")
    assert again.startswith("409") and "already been used" in again
    assert conn(database) == (ConnectionState.CONSENT_RECEIVED, None) and claimed(database) == TENANT


def test_an_expired_link_is_refused_every_time(client: FlaskClient, launch: Launch, database: Database) -> None:
    state = issue(client, launch)
    with database.session() as session:
        request = session.get(ConsentRequest, state)
        assert request is not None
        assert request.expires_at - request.created_at == timedelta(days=7)
        request.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    for _ in range(2):
        page = accept(client, state)
        assert page.startswith("410") and "This consent link has expired" in page
    assert conn(database) == (ConnectionState.CONSENT_PENDING, None)
    assert "The consent link has expired" in client.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize("tamper", [
    lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
    lambda s: s + "x",
    lambda s: s.upper(),
    lambda s: "",
    lambda s: "x" * 500,
    lambda s: s[:10] + "\x00" + s[11:],
    lambda s: "' OR '1'='1",
], ids=["one-char", "longer", "case", "empty", "huge", "nul", "sql"])
def test_a_tampered_state_is_unknown_and_changes_nothing(client: FlaskClient, launch: Launch, database: Database,
                                                         tamper: Callable[[str], str]) -> None:
    state = issue(client, launch)
    page = accept(client, tamper(state))
    assert page.startswith("400") and "This consent link is not valid" in page
    assert conn(database) == (ConnectionState.CONSENT_PENDING, None)
    assert accept(client, state).startswith("200")  # the real link still works


def test_a_missing_state_is_unknown(client: FlaskClient) -> None:
    answer = client.get(CALLBACK, query_string={"admin_consent": "True", "tenant": TENANT})
    assert answer.status_code == 400


@pytest.mark.parametrize("tenant", ["", "<script>", "a" * 100, "../../etc"])
def test_a_bad_tenant_is_not_stored(client: FlaskClient, launch: Launch, database: Database, tenant: str) -> None:
    page = accept(client, issue(client, launch), tenant=tenant)
    assert page.startswith("200") and "Consent was not given" in page
    assert conn(database)[1] is None


def test_declined_consent_shows_azure_words_escaped(client: FlaskClient, launch: Launch, database: Database) -> None:
    state = issue(client, launch)
    answer = client.get(CALLBACK, query_string={
        "admin_consent": "True", "error": "consent_required", "state": state,
        "error_description": "AADSTS65004: User declined to consent to access the app.<script>alert(1)</script>"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Consent was not given" in page
    assert "AADSTS65004: User declined" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert conn(database) == (ConnectionState.DISCONNECTED, None)
    again = client.get(PAGE).get_data(as_text=True)
    assert "was declined by the Azure AD administrator" in again


def test_state_is_bound_to_the_account_that_made_it(client: FlaskClient, launch: Launch,
                                                    database: Database) -> None:
    state_a = issue(client, launch, account="acct-a")
    other = client.application.test_client()
    make_launch(other)("owner", account="acct-b")  # an owner of another account opens A's link
    page = accept(other, state_a)
    assert page.startswith("200") and "Back to the settings page" not in page
    assert conn(database, "acct-a") == (ConnectionState.CONSENT_RECEIVED, None)
    assert claimed(database, "acct-a") == TENANT
    assert conn(database, "acct-b") == (ConnectionState.DISCONNECTED, None)
    with database.session() as session:
        assert session.scalars(select(ConsentRequest.account_id)).all() == ["acct-a"]


def test_consent_from_another_tenant_is_refused_while_entries_live_in_the_first(
        client: FlaskClient, launch: Launch, database: Database) -> None:
    with database.session() as session:
        row = connection.connection(session, ACCOUNT)
        row.state, row.tenant_id = ConnectionState.SUSPENDED, TENANT
        session.add(Entry(account_id=ACCOUNT, user_id="u", event_id="e", session_id="s", tenant_id=TENANT,
                          mailbox_id="m", transaction_id="x", tag="t", state="active",
                          starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 1, 1, tzinfo=UTC)))
    other_tenant = "22222222-2222-2222-2222-222222222222"
    page = accept(client, issue(client, launch), tenant=other_tenant)
    assert page.startswith("409") and "Consent came from a different organisation" in page
    assert other_tenant in page and TENANT in page
    assert conn(database) == (ConnectionState.SUSPENDED, TENANT)

"""What an LMS user or a stranger can no longer do: switch a connected account's tenant, have a
hand-made consent answer believed, keep managing after the LMS removed them, or reuse a launch."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bridge.codes import ConnectionState
from bridge.db import Database
from bridge.models import ConsentRequest
from plugin import create_app
from plugin.host import launch_url
from plugin.launch import SESSION_IDLE
from tests.page.conftest import ACCOUNT, HOST_SECRET, Launch, csrf, user
from tests.page.test_consent import CALLBACK, TENANT, accept, claimed, conn, issue
from tests.page.test_roles import ACTIONS, connected

PAGE = "/integrations/outlook"
OTHER_TENANT = "22222222-2222-2222-2222-222222222222"
Hooks = Callable[..., Any]


def links(database: Database) -> int:
    with database.session() as session:
        return session.execute(select(func.count()).select_from(ConsentRequest)).scalar_one()


# 2. A connected account's tenant cannot be switched.

def test_while_connected_no_consent_link_is_made(client: FlaskClient, launch: Launch, database: Database) -> None:
    connected(database)
    launch("owner")
    answer = client.post(f"{PAGE}/connect", data={"csrf_token": csrf(client)})
    assert answer.status_code == 409
    assert "The integration is connected, so no new consent link was made" in answer.get_data(as_text=True)
    assert links(database) == 0
    assert conn(database) == (ConnectionState.CONNECTED, "00000000-0000-0000-0000-00000000c0de")


def test_no_consent_answer_changes_a_connected_accounts_tenant(client: FlaskClient, launch: Launch,
                                                                 database: Database) -> None:
    state = issue(client, launch)  # a link made before the account was connected
    connected(database)
    page = accept(client.application.test_client(), state, tenant=OTHER_TENANT)
    assert page.startswith("409") and "The integration is already connected" in page
    assert conn(database) == (ConnectionState.CONNECTED, "00000000-0000-0000-0000-00000000c0de")
    assert claimed(database) is None


# 3. The consent answer is checked in order and its tenant is a claim.

def test_an_answer_without_admin_consent_true_stores_nothing_and_the_link_still_works(
        client: FlaskClient, launch: Launch, database: Database) -> None:
    state = issue(client, launch)
    for admin_consent in (None, "False", "true"):
        query = {"state": state, "tenant": TENANT, **({"admin_consent": admin_consent} if admin_consent else {})}
        answer = client.get(CALLBACK, query_string=query)
        assert answer.status_code == 400
        assert "Consent given" not in answer.get_data(as_text=True)
        assert conn(database) == (ConnectionState.CONSENT_PENDING, None) and claimed(database) is None
    assert accept(client, state).startswith("200")


def test_the_accepted_tenant_is_a_claim_until_connect_integration_proves_it(
        client: FlaskClient, launch: Launch, database: Database) -> None:
    accept(client, issue(client, launch))
    assert conn(database) == (ConnectionState.CONSENT_RECEIVED, None)
    assert claimed(database) == TENANT
    assert TENANT in client.get(PAGE).get_data(as_text=True)


def test_an_error_comes_first_even_with_admin_consent_true(client: FlaskClient, launch: Launch,
                                                          database: Database) -> None:
    state = issue(client, launch)
    answer = client.get(CALLBACK, query_string={"admin_consent": "True", "tenant": TENANT, "state": state,
                                                "error": "access_denied"})
    assert "Consent was not given" in answer.get_data(as_text=True)
    assert conn(database) == (ConnectionState.DISCONNECTED, None) and claimed(database) is None


# 4. Every action checks the user's current role and active flag.

def _removed(how: str) -> tuple[str, dict[str, Any]]:
    if how == "deleted":
        return "user.deleted", {"id": "u-admin", "version": 2}
    topic, data = user("u-admin", "adam@contoso.example", "Adam Admin", role="admin")
    return topic, {**data, "version": 2, **({"role": "learner"} if how == "learner" else {"active": False})}


@pytest.mark.parametrize("how", ["learner", "inactive", "deleted"])
def test_a_manager_removed_in_the_lms_gets_403_on_every_action(
        client: FlaskClient, launch: Launch, database: Database, hooks: Hooks,
        rows: Callable[[], dict[str, int]], how: str) -> None:
    hooks(ACCOUNT, [user("u-ada", "ada@contoso.example", "Ada Lovelace"),
                    user("u-admin", "adam@contoso.example", "Adam Admin", role="admin")])
    connected(database)
    launch("admin", user_id="u-admin")
    token = csrf(client)
    hooks(ACCOUNT, [_removed(how)])
    before = rows()
    for action, form in ACTIONS:
        answer = client.post(f"{PAGE}/{action}", data={"csrf_token": token, **form})
        assert answer.status_code == 403, (action, answer.status_code)
    assert rows() == before
    assert client.get(f"{PAGE}/users.csv").status_code == 403


def test_a_session_ends_after_an_hour_without_a_request_and_lives_while_used(client: FlaskClient,
                                                                             launch: Launch) -> None:
    launch("owner")
    start = time.time()
    with mock.patch("time.time", return_value=start + SESSION_IDLE - 60):
        assert client.get(PAGE).status_code == 200
    with mock.patch("time.time", return_value=start + 2 * SESSION_IDLE - 120):
        assert client.get(PAGE).status_code == 200  # an hour after the last request, not the launch
    with mock.patch("time.time", return_value=start + 3 * SESSION_IDLE):
        answer = client.get(PAGE)
    assert answer.status_code == 403 and "Open this page from the LMS" in answer.get_data(as_text=True)


# 5. A launch token opens the page once.

def test_a_launch_token_works_once_and_the_page_reloads(client: FlaskClient, launch: Launch) -> None:
    url = launch_url("http://localhost", HOST_SECRET, ACCOUNT, "u-owner", "owner").removeprefix("http://localhost")
    assert client.get(url).status_code == 303
    assert client.get(PAGE).status_code == 200  # a reload is the clean address: the session serves it
    other = client.application.test_client()
    again = other.get(url)
    assert again.status_code == 403 and "already used" in again.get_data(as_text=True)
    assert other.get(PAGE).status_code == 403


def test_concurrent_opens_of_one_launch_token_let_exactly_one_in(client: FlaskClient, database: Database) -> None:
    """Eight browsers open the same link at once, each through its own app and database engine
    (as separate processes would): one gets a session."""
    url = launch_url("http://localhost", HOST_SECRET, ACCOUNT, "u-owner", "owner").removeprefix("http://localhost")
    settings = client.application.extensions["outlook_sync"].settings
    engines = [Database(database.url) for _ in range(8)]
    clients = [create_app(settings, engine).test_client() for engine in engines]
    barrier, codes = threading.Barrier(len(clients)), []

    def open_link(browser: FlaskClient) -> None:
        barrier.wait()
        codes.append(browser.get(url).status_code)

    threads = [threading.Thread(target=open_link, args=(browser,)) for browser in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert sorted(codes) == [303] + [403] * (len(clients) - 1)
    assert sum(browser.get(PAGE).status_code == 200 for browser in clients) == 1

"""The actions' forms: CSRF, the reminder's validation, the disconnect confirmation, retry, resync."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.accounts import connection
from bridge.codes import ConnectionState
from bridge.db import Database
from bridge.models import Account, DirtyKey, Entry
from tests.page.conftest import ACCOUNT, USERS, Launch, csrf, user
from tests.page.test_roles import ACTIONS, connected

PAGE = "/integrations/outlook"


@pytest.fixture
def ready(database: Database, hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, [user("u-ada", "ada@contoso.example", "Ada Lovelace"),
                    user("u-bob", "bob@contoso.example", "Bob Builder")])
    connected(database)
    with database.session() as session:  # the hooks queued everyone: start from an empty queue
        for key in session.scalars(select(DirtyKey)):
            session.delete(key)


def reminder(database: Database) -> int | None:
    with database.session() as session:
        account = session.get(Account, ACCOUNT)
        assert account is not None
        return account.reminder_minutes


def queued(database: Database) -> list[str]:
    with database.session() as session:
        return sorted(session.scalars(select(DirtyKey.user_id).where(DirtyKey.account_id == ACCOUNT)))


@pytest.mark.parametrize("sent", [None, "", "wrong-token"], ids=["missing", "empty", "wrong"])
@pytest.mark.parametrize(("action", "form"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_csrf_missing_or_wrong_is_refused_and_nothing_changes(
        client: FlaskClient, launch: Launch, database: Database, ready: None, rows: Callable[[], dict[str, int]],
        action: str, form: dict[str, str], sent: str | None) -> None:
    launch("owner")
    before, minutes = rows(), reminder(database)
    data = dict(form) if sent is None else {**form, "csrf_token": sent}
    answer = client.post(f"{PAGE}/{action}", data=data)
    assert answer.status_code == 400
    assert "The form has expired" in answer.get_data(as_text=True)
    assert rows() == before and reminder(database) == minutes and queued(database) == []


def test_a_token_from_another_session_is_refused(app: object, client: FlaskClient, launch: Launch,
                                                 database: Database, ready: None) -> None:
    launch("owner")
    other = client.application.test_client()
    from tests.page.conftest import make_launch
    make_launch(other)("owner")
    answer = client.post(f"{PAGE}/reminder", data={"csrf_token": csrf(other), "reminder_minutes": "5"})
    assert answer.status_code == 400 and reminder(database) == 15


@pytest.mark.parametrize(("raw", "stored"), [
    ("30", 30), ("0", 0), ("40320", 40320), (" 45 ", 45), ("", None), ("none", None), ("None", None),
])
def test_reminder_accepts_minutes_or_none(client: FlaskClient, launch: Launch, database: Database, ready: None,
                                          raw: str, stored: int | None) -> None:
    launch("admin")
    answer = client.post(f"{PAGE}/reminder", data={"csrf_token": csrf(client), "reminder_minutes": raw},
                         follow_redirects=True)
    assert answer.status_code == 200 and "Reminder saved" in answer.get_data(as_text=True)
    assert reminder(database) == stored


@pytest.mark.parametrize("raw", ["-1", "40321", "1.5", "15 minutes", "abc", "１５", "99999999", "1e3"])
def test_reminder_refuses_anything_else_and_stores_nothing(client: FlaskClient, launch: Launch,
                                                           database: Database, ready: None, raw: str) -> None:
    launch("owner")
    answer = client.post(f"{PAGE}/reminder", data={"csrf_token": csrf(client), "reminder_minutes": raw})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "whole number of minutes from 0 to 40320" in html and 'role="alert"' in html
    assert reminder(database) == 15


def test_a_reminder_change_queues_the_holders_of_entries(client: FlaskClient, launch: Launch,
                                                         database: Database, ready: None) -> None:
    from datetime import UTC, datetime
    with database.session() as session:
        session.add(Entry(account_id=ACCOUNT, user_id="u-ada", event_id="e", session_id="s", tenant_id="t",
                          mailbox_id="m", transaction_id="x", tag="tag", state="active",
                          starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 1, 1, tzinfo=UTC)))
    launch("owner")
    client.post(f"{PAGE}/reminder", data={"csrf_token": csrf(client), "reminder_minutes": "60"})
    assert queued(database) == ["u-ada"]


def test_disconnect_needs_the_confirmation_step(client: FlaskClient, launch: Launch, database: Database,
                                                ready: None) -> None:
    launch("owner")
    answer = client.post(f"{PAGE}/disconnect", data={"csrf_token": csrf(client)})
    assert answer.status_code == 400 and "Confirm" in answer.get_data(as_text=True)
    with database.session() as session:
        assert connection.connection(session, ACCOUNT).state == ConnectionState.CONNECTED


@pytest.mark.parametrize(("remove", "state"), [(True, ConnectionState.DISCONNECTING),
                                               (False, ConnectionState.DISCONNECTED)])
def test_disconnect_with_or_without_removing_entries(client: FlaskClient, launch: Launch, database: Database,
                                                     ready: None, remove: bool, state: str) -> None:
    launch("owner")
    form = {"csrf_token": csrf(client), "confirm": "yes", **({"remove_entries": "yes"} if remove else {})}
    answer = client.post(f"{PAGE}/disconnect", data=form, follow_redirects=True)
    assert answer.status_code == 200 and "Disconnected." in answer.get_data(as_text=True)
    with database.session() as session:
        assert connection.connection(session, ACCOUNT).state == state


def test_retry_queues_one_user_and_keeps_the_filter(client: FlaskClient, launch: Launch, database: Database,
                                                    ready: None) -> None:
    launch("owner")
    answer = client.post(f"{PAGE}/users/u-bob/retry", data={"csrf_token": csrf(client), "state": "pending",
                                                              "q": "bob"})
    assert answer.status_code == 303 and answer.headers["Location"] == f"{USERS}?state=pending&q=bob"
    assert queued(database) == ["u-bob"]
    assert "Bob Builder will be synchronised again" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_retry_of_an_unknown_user_is_404(client: FlaskClient, launch: Launch, database: Database,
                                         ready: None) -> None:
    launch("owner")
    assert client.post(f"{PAGE}/users/u-nobody/retry", data={"csrf_token": csrf(client)}).status_code == 404
    assert queued(database) == []


def test_resync_queues_everyone_only_while_connected(client: FlaskClient, launch: Launch, database: Database,
                                                     ready: None) -> None:
    launch("owner")
    token = csrf(client)
    assert client.post(f"{PAGE}/resync", data={"csrf_token": token}).status_code == 303
    assert queued(database) == ["u-ada", "u-bob"]
    with database.session() as session:
        connection.connection(session, ACCOUNT).state = ConnectionState.SUSPENDED
    answer = client.post(f"{PAGE}/resync", data={"csrf_token": token})
    assert answer.status_code == 409 and "while the integration is connected" in answer.get_data(as_text=True)


def test_connect_makes_a_link_and_a_second_connect_replaces_it(client: FlaskClient, launch: Launch) -> None:
    from tests.page.conftest import consent_state
    launch("owner")
    token = csrf(client)
    client.post(f"{PAGE}/connect", data={"csrf_token": token})
    first = consent_state(client)
    client.post(f"{PAGE}/connect", data={"csrf_token": token})
    second = consent_state(client)
    assert first != second
    answer = client.get(f"{PAGE}/consent", query_string={"admin_consent": "True", "tenant": "t1", "state": first})
    assert answer.status_code == 410 and "replaced by a newer one" in answer.get_data(as_text=True)


def test_a_form_over_64_kib_is_413_and_nothing_changes(client: FlaskClient, launch: Launch, database: Database,
                                                      ready: None) -> None:
    launch("owner")
    minutes = reminder(database)
    token = csrf(client)
    answer = client.post(f"{PAGE}/reminder", data={"csrf_token": token, "reminder_minutes": "30",
                                                   "padding": "x" * (64 * 1024)})
    assert answer.status_code == 413
    assert reminder(database) == minutes
    assert client.post(f"{PAGE}/reminder", data={"csrf_token": token, "reminder_minutes": "30"}).status_code in (
        200, 302, 303)  # the same form within the limit is taken

"""POST /users/state after a real pass: connect on the emulator, sync the sample LMS, then each user's own
answer (codes, plain words in their language, the feed offer) — and never another account's user."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bridge.accounts.standing import Standing
from bridge.codes import ConnectionState, Reason, UserState
from bridge.config import Settings
from bridge.db import Database
from emulator.testing import EmulatorHandle
from plugin.contract.openapi import SIGNED, document
from plugin.host import USER_STATE_PATH, HostClient, dumps
from plugin.user_state import words
from tests.page import lms_sample
from tests.page.conftest import ACCOUNT, HOST_SECRET, Launch, Tenant, emulator_settings, user
from tests.page.test_connect import activate, consent, drain

OTHER = "acct-2"


@pytest.fixture
def settings(database: Database, emulator: EmulatorHandle) -> Settings:
    return emulator_settings(database, emulator)


@pytest.fixture
def ask(client: FlaskClient) -> Callable[..., TestResponse]:
    """The LMS's signed call, as plugin.host makes it."""
    host = HostClient("http://localhost", HOST_SECRET)

    def ask(user_id: str, account: str = ACCOUNT, **extra: Any) -> TestResponse:
        body = dumps({"account": account, "user_id": user_id, "request_id": str(uuid.uuid4()), **extra})
        return client.post(USER_STATE_PATH, data=body, headers=host.signed_headers(body))

    return ask


def test_each_user_is_told_where_they_stand_after_a_real_pass(
    client: FlaskClient, launch: Launch, database: Database, settings: Settings, tenant: Tenant,
    emulator: EmulatorHandle, hooks: Callable[..., object], ask: Callable[..., TestResponse],
) -> None:
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)))
    before = ask("u-ada").json
    assert before is not None
    assert (before["connection"], before["reaches_outlook"], before["reason"]) == ("disconnected", False,
                                                                                  "not_connected")
    assert before["message"] == "Your sessions do not reach your Outlook calendar."
    assert before["reason_text"] == "Your organisation has not connected its Outlook to the LMS."
    assert before["feed"]["offered"] is True  # before a tenant is connected, everyone is offered a feed

    launch("owner", user_id="u-owner")
    assert consent(client, emulator).startswith("200")
    assert activate(client)[0] == 303
    drain(database, settings)

    answers = {uid: ask(uid).json for uid in lms_sample.EXPECTED}
    for uid, (state, reason) in lms_sample.EXPECTED.items():
        assert (answers[uid]["state"], answers[uid]["reason"]) == (state, reason), uid
    ada = answers["u-ada"]
    assert (ada["connection"], ada["reaches_outlook"], ada["entries"]) == ("connected", True, 1)
    assert ada["message"] == "Your sessions reach your Outlook calendar." and ada["reason_text"] is None
    assert ada["feed"] == {"offered": False, "reason": "in_outlook", "issued_at": None}
    assert ada["changed_at"] is not None and ada["locale"] == "en"
    gina = answers["u-gina"]
    assert gina["reaches_outlook"] is False and gina["feed"]["offered"] is True
    assert gina["reason_text"].startswith("Your e-mail address in the LMS is a personal one")
    old = answers["u-old"]
    assert (old["reaches_outlook"], old["feed"]["reason"]) == (False, "mailbox_not_in_exchange_online")
    assert "Exchange Online" in old["reason_text"]
    assert answers["u-nina"]["reason_text"] == "You are enrolled, but you have not chosen a session yet."

    russian = ask("u-gina", locale="ru_RU").json
    assert russian is not None and russian["locale"] == "ru"
    assert russian["message"] == "Ваши сеансы не попадают в ваш календарь Outlook."
    assert (russian["state"], russian["reason"]) == ("skipped", "personal_email")  # codes stay codes
    assert ask("u-ada", locale="xx").json["locale"] == "en"  # no such catalogue: the account's, else English


def test_a_user_of_another_account_is_never_answered(
    database: Database, hooks: Callable[..., object], ask: Callable[..., TestResponse],
) -> None:
    hooks(ACCOUNT, [user("u-a", "a@contoso.example", "Anna of A")])
    hooks(OTHER, [user("u-b", "b@gmail.com", "Boris of B"), user("u-shared", "s@gmail.com", "Same id in B")])
    hooks(ACCOUNT, [user("u-shared", "s@contoso.example", "Same id in A", active=False)])
    refused = ask("u-b")  # B's user, asked as A
    assert refused.status_code == 404 and refused.json == {"error": "no such user in this account"}
    assert "Boris" not in refused.get_data(as_text=True)
    assert ask("u-b", account=OTHER).status_code == 200
    in_a, in_b = ask("u-shared").json, ask("u-shared", account=OTHER).json
    assert (in_a["state"], in_a["feed"]["reason"]) == ("pending", "inactive")
    assert (in_b["state"], in_b["feed"]["reason"]) == ("pending", "personal_email")
    hooks(ACCOUNT, [("user.deleted", {"id": "u-a", "version": 2})])
    assert ask("u-a").status_code == 404


def test_the_call_is_signed_and_validated(client: FlaskClient, hooks: Callable[..., object],
                                          ask: Callable[..., TestResponse]) -> None:
    hooks(ACCOUNT, [user("u-a", "a@contoso.example", "Anna")])
    body = dumps({"account": ACCOUNT, "user_id": "u-a", "request_id": "r-1"})
    unsigned = client.post(USER_STATE_PATH, data=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    forged = HostClient("http://localhost", "not-the-host-secret-0123")
    assert client.post(USER_STATE_PATH, data=body, headers=forged.signed_headers(body)).status_code == 401
    bad = ask("", locale=5, extra=True)
    assert bad.status_code == 400 and set(bad.json["fields"]) == {"user_id", "locale", "extra"}


def test_openapi_documents_the_call() -> None:
    operation = document("0.1.0")["paths"][USER_STATE_PATH]["post"]
    assert operation["security"] == SIGNED
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "409"}
    schema = document("0.1.0")["components"]["schemas"]["UserStateAnswer"]
    assert schema["properties"]["state"]["enum"] == list(UserState)
    assert schema["properties"]["feed"]["allOf"] == [{"$ref": "#/components/schemas/FeedState"}]


def answer_for(connection: str, state: str, reason: str | None, last: str | None = None) -> tuple[str, str | None]:
    found = Standing(connection, state, reason, connection == "connected" and last == "synced", 0, None)
    return words.message(found), words.reason_text(found)


def test_every_reason_has_words_for_the_user_and_the_connection_comes_first() -> None:
    assert set(words.REASONS) == set(Reason)
    waiting = answer_for("connected", UserState.PENDING, None)
    assert waiting == ("Your sessions are on their way to your Outlook calendar.", None)
    synced_then_suspended = answer_for(ConnectionState.SUSPENDED, UserState.SYNCED, Reason.NO_UPCOMING_SESSIONS)
    assert synced_then_suspended == (str(words.NOT_REACHING), str(words.SUSPENDED))
    retrying = answer_for("connected", UserState.RETRYING, None, last="synced")
    assert retrying == (str(words.REACHES), str(words.RETRYING))

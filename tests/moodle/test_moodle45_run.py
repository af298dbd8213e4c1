"""The recorded Moodle 4.5 LTS run (face-to-face and mod_booking) replayed against the plugin's app.

Each step's snapshot is what the plugin read just before Moodle's task runner ran its round; the
plugin's PHP (``php``, not Moodle) plans and signs that round, the app receives it, and the number of
deliveries must be the one the real task runner printed (``sent``). Then each user's own page asks
what the Moodle plugin asks, signed by the same PHP: where they stand, and their feed address.
"""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from bridge.accounts import host_keys
from bridge.config import Settings
from bridge.db import Database
from bridge.models import LmsEnrollment, LmsEvent, LmsSession, LmsUser, utcnow
from tests.moodle.conftest import ACCOUNT, Php, known_after, round_input, steps
from tests.plugin.conftest import HOST_SECRET

RUN = "moodle45"
F2F, FIRST, SECOND = "f2f:1:1", "bk:1:1", "bk:1:2"
INGRID, LENA, LARS, GINA, OTTO = "3", "4", "5", "6", "7"


def post(client: FlaskClient, request: dict[str, Any]) -> TestResponse:
    """POST exactly the bytes and headers PHP made."""
    headers = dict(line.split(": ", 1) for line in request["headers"])
    return client.post(request["path"], data=request["body"].encode("utf-8"), headers=headers)


def replica(database: Database) -> dict[str, Any]:
    with database.session() as db:
        return {
            "users": {u.id: (u.role, u.active) for u in db.scalars(select(LmsUser).where(LmsUser.deleted.is_(False)))},
            "events": {e.id: (e.title, e.organizer_id, e.location, e.cancelled) for e in db.scalars(select(LmsEvent))
                       if not e.deleted},
            "starts": {s.event_id: s.start.astimezone(UTC) for s in db.scalars(select(LmsSession))},
            "enrolled": {(n.event_id, n.user_id) for n in db.scalars(select(LmsEnrollment)) if not n.deleted},
        }


@pytest.fixture
def replayed(client: FlaskClient, php: Php, database: Database) -> dict[str, dict[str, Any]]:
    """Replay every step; the replica after each, by step name."""
    known: dict[str, Any] = {}
    after: dict[str, dict[str, Any]] = {}
    for step in steps(RUN):
        done = php("round", **round_input(step["snapshot"], known, batchonly=step["step"].startswith("01-")))
        assert len(done["actions"]) == step["sent"], (step["step"], step["task_output"])
        for request in done["requests"]:
            answer = post(client, request)
            assert answer.status_code == 202, (step["step"], answer.get_data(as_text=True))
        known_after(done["actions"], known)
        after[step["step"]] = replica(database)
    return after


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_recorded_run_ends_each_step_in_the_state_moodle_had(replayed: dict[str, dict[str, Any]]) -> None:
    first = replayed["01-switch-on-with-cfg-php"]
    assert first["users"] == {"2": ("owner", True), INGRID: ("learner", True), LENA: ("learner", True),
                              LARS: ("learner", True), GINA: ("learner", True), OTTO: ("admin", True)}
    created = replayed["02-trainer-creates-session"]
    assert created["events"][F2F] == ("Fire safety training", INGRID, "Room 4.01", False)
    assert created["users"][INGRID] == ("instructor", True)
    assert replayed["03-learner-signs-up"]["enrolled"] == {(F2F, LENA)}
    assert replayed["04-trainer-moves-session"]["starts"][F2F] == at("2026-12-15T12:00:00")
    assert replayed["05-manager-adds-attendee"] == replayed["04-trainer-moves-session"]  # no event, nothing sent
    assert replayed["06-reconcile-finds-attendee"]["enrolled"] == {(F2F, LENA), (F2F, LARS)}
    assert replayed["07-learner-cancels"]["enrolled"] == {(F2F, LARS)}
    option = replayed["08-booking-option-with-two-dates"]
    assert {e: option["events"][e] for e in (FIRST, SECOND)} == {
        FIRST: ("First aid workshop (1/2)", INGRID, "Room 2.10", False),
        SECOND: ("First aid workshop (2/2)", INGRID, "Room 2.10", False)}
    assert [option["starts"][e] for e in (FIRST, SECOND)] == [at("2026-12-16T09:00:00"), at("2026-12-17T09:00:00")]
    assert {(FIRST, LENA), (SECOND, LENA)} <= replayed["09-learner-books-option"]["enrolled"]
    assert {(FIRST, GINA), (SECOND, GINA)} <= replayed["10-gmail-learner-books-option"]["enrolled"]
    moved = replayed["11-first-date-moved-after-the-second"]["starts"]
    assert [moved[e] for e in (FIRST, SECOND)] == [at("2026-12-17T09:00:00"), at("2026-12-18T13:00:00")]
    assert replayed["12-learner-cancels-booking"]["enrolled"] == {(F2F, LARS), (FIRST, GINA), (SECOND, GINA)}
    cancelled = replayed["13-option-cancelled"]
    assert (cancelled["events"][FIRST][3], cancelled["events"][SECOND][3]) == (True, True)
    assert cancelled["enrolled"] == {(F2F, LARS)}
    assert replayed["14-reconcile-idle"] == cancelled


def test_what_moodle_logged_and_what_it_did_not() -> None:
    recorded = {s["step"]: s for s in steps(RUN)}
    assert [e["other"] for e in recorded["01-switch-on-with-cfg-php"]["events"]] == [
        {"name": "enabled", "oldvalue": "0", "value": "1", "plugin": "local_outlooksync"}]  # admin/cli/cfg.php logs it
    assert recorded["05-manager-adds-attendee"]["events"] == []  # face-to-face's attendee page fires nothing
    assert {e["eventname"] for e in recorded["08-booking-option-with-two-dates"]["events"]} == {
        "\\mod_booking\\event\\bookingoptiondate_created", "\\mod_booking\\event\\teacher_added",
        "\\mod_booking\\event\\bookingoption_updated"}
    for name, event in (("09-learner-books-option", "bookingoption_booked"),
                        ("12-learner-cancels-booking", "bookinganswer_cancelled"),
                        ("13-option-cancelled", "bookingoption_cancelled")):
        [logged] = recorded[name]["events"]
        assert (logged["eventname"], logged["objectid"]) == (f"\\mod_booking\\event\\{event}", 1)


def ask(client: FlaskClient, php: Php, path: str, user_id: str, account: str = ACCOUNT, **more: Any) -> TestResponse:
    """What the Moodle plugin's user page sends, made and signed by its PHP."""
    request = php("ask", path=path, account=account, user_id=user_id, more=more, secret=HOST_SECRET,
                  now=int(time.time()))
    return post(client, request)


def test_each_users_own_page_asks_what_the_moodle_plugin_asks(
    replayed: dict[str, dict[str, Any]], client: FlaskClient, php: Php
) -> None:
    gina = ask(client, php, "/users/state", GINA, locale="ru")
    assert gina.status_code == 200, gina.get_data(as_text=True)
    body = gina.get_json()
    # The replay connects no tenant: nobody's sessions reach Outlook here, and Gina would not reach it anyway.
    assert (body["reason"], body["reaches_outlook"], body["locale"]) == ("not_connected", False, "ru")
    assert (body["message"], body["reason_text"]) == ("Ваши сеансы не попадают в ваш календарь Outlook.",
                                                      "Ваша организация не подключила свой Outlook к СДО.")
    assert body["feed"] == {"offered": True, "reason": "personal_email", "issued_at": None}
    made = ask(client, php, "/feeds/address", GINA, action="rotate").get_json()
    assert made["url"].endswith(".ics") and made["issued_at"]
    assert ask(client, php, "/users/state", GINA).get_json()["feed"]["issued_at"] == made["issued_at"]
    assert ask(client, php, "/feeds/address", GINA, action="revoke").get_json()["issued_at"] is None
    assert ask(client, php, "/users/state", GINA, account="another-moodle").status_code == 404


def test_with_a_key_of_its_own_the_site_names_it_and_each_call_is_served_once(
    replayed: dict[str, dict[str, Any]], client: FlaskClient, php: Php, database: Database, settings: Settings
) -> None:
    with database.session() as session:
        key, secret = host_keys.create(session, settings.secret_key, ACCOUNT, utcnow(), timedelta(0))
    request = php("ask", path="/feeds/address", account=ACCOUNT, user_id=GINA, more={"action": "rotate"},
                  secret=secret, keyid=key.id, now=int(time.time()))
    assert f"X-Hook-Key: {key.id}" in request["headers"] and json.loads(request["body"])["request_id"]
    made = post(client, request)
    assert made.status_code == 200 and made.get_json()["url"], made.get_data(as_text=True)
    again = post(client, request)  # the same signed bytes, sent again
    assert (again.status_code, again.get_json()["request_id"]) == (409, json.loads(request["body"])["request_id"])
    assert ask(client, php, "/users/state", GINA).status_code == 403  # the shared secret no longer opens it
    token = php("launch", secret=secret, account=ACCOUNT, user_id=GINA, role="learner", now=int(time.time()))["token"]
    assert client.get(f"/integrations/outlook?launch={token}&key={key.id}").status_code == 303


def test_fixtures_hold_no_secret() -> None:
    text = json.dumps(steps(RUN))
    assert "Test-pass" not in text and "Admin-pass" not in text and "secret" not in text.lower()

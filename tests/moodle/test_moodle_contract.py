"""The Moodle plugin's PHP against the plugin's own signature check, schemas, /hooks and /hooks/batch.

Each recorded step of the real Moodle 4.3 run (fixtures/moodle43) is replayed: the plugin's PHP classes
(run by ``php``, not Moodle) plan and sign what the Moodle task sent in that run, the plugin's app
receives it, and the stored replica must be what Moodle said. The number of deliveries per step
is the one the real run's task runner printed.
"""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from bridge.db import Database
from bridge.models import Account, LmsEnrollment, LmsEvent, LmsSession, LmsUser
from tests.moodle.conftest import ACCOUNT, Php, known_after, round_input, steps
from tests.plugin.conftest import HOST_SECRET

# Deliveries per step, as printed by Moodle's task runner in the real run (docs/MOODLE.md).
REAL_RUN_COUNTS = {"01-switch-on": 4, "02-trainer-creates-session": 1, "03-trainer-assigned": 2,
                   "04-learner-signs-up": 1, "05-trainer-moves-session": 1, "06-manager-adds-attendee": 1,
                   "07-learner-cancels": 1, "08-admin-suspends-learner": 1, "09-trainer-deletes-session": 2,
                   "10-unsuspend-while-bridge-down": 1,  # refused while the bridge was down, sent on the retry
                   "11-two-dates-and-sign-up": 4}  # 2 events when saved, 2 enrollments after the sign-up
EVENT = "f2f:1:1"


def post(client: FlaskClient, request: dict[str, Any]) -> TestResponse:
    """POST exactly the bytes and headers PHP made."""
    headers = dict(line.split(": ", 1) for line in request["headers"])
    return client.post(request["path"], data=request["body"].encode("utf-8"), headers=headers)


def replay(client: FlaskClient, php: Php, step: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """Plan, sign and send one step as the Moodle task does; returns the round, ``known`` updated."""
    done = php("round", **round_input(step["snapshot"], known, batchonly=step["step"] == "01-switch-on"))
    for request in done["requests"]:
        answer = post(client, request)
        assert answer.status_code == 202, (step["step"], answer.status_code, answer.get_data(as_text=True))
    known_after(done["actions"], known)
    return done


def stored(database: Database) -> dict[str, Any]:
    """The replica as plain values."""
    with database.session() as db:
        users = {u.id: (u.role, u.active, u.deleted) for u in db.scalars(select(LmsUser))}
        events = {e.id: (e.title, e.organizer_id, e.location, e.timezone, e.cancelled, e.deleted)
                  for e in db.scalars(select(LmsEvent))}
        sessions = {(s.event_id, s.id): (s.start.astimezone(UTC), s.end.astimezone(UTC))
                    for s in db.scalars(select(LmsSession))}
        enrollments = {(n.event_id, n.user_id): (n.session_id, n.deleted) for n in db.scalars(select(LmsEnrollment))}
    return {"users": users, "events": events, "sessions": sessions, "enrollments": enrollments}


def dates_of(step: dict[str, Any]) -> list[dict[str, int]]:
    """A step's session dates in time order."""
    return sorted(step["snapshot"]["sessions"][0]["dates"], key=lambda d: d["timestart"])


def instant(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def test_recorded_moodle_run_ends_in_the_right_state(client: FlaskClient, php: Php, database: Database) -> None:
    known: dict[str, Any] = {}
    recorded = steps()
    assert [s["step"] for s in recorded] == list(REAL_RUN_COUNTS)
    states = {}
    for step in recorded:
        done = replay(client, php, step, known)
        assert len(done["actions"]) == REAL_RUN_COUNTS[step["step"]], step["step"]
        states[step["step"]] = stored(database)
    dates = {s["step"]: s["snapshot"]["sessions"][0]["dates"][0] for s in recorded if s["snapshot"]["sessions"]}

    first = states["01-switch-on"]
    assert first["users"] == {"2": ("owner", True, False), "3": ("learner", True, False),
                              "4": ("learner", True, False), "5": ("learner", True, False)}
    created = states["02-trainer-creates-session"]
    assert created["events"][EVENT] == (
        "Fire safety training", "no-trainer", "Room 4.01", "Europe/Berlin", False, False)
    start = dates["02-trainer-creates-session"]
    assert created["sessions"][(EVENT, EVENT)] == (instant(start["timestart"]), instant(start["timefinish"]))
    assigned = states["03-trainer-assigned"]
    assert (assigned["events"][EVENT][1], assigned["users"]["3"][0]) == ("3", "instructor")
    assert states["04-learner-signs-up"]["enrollments"] == {(EVENT, "4"): (EVENT, False)}
    moved = dates["05-trainer-moves-session"]
    assert moved != start
    assert states["05-trainer-moves-session"]["sessions"][(EVENT, EVENT)] == (
        instant(moved["timestart"]), instant(moved["timefinish"]))
    assert states["06-manager-adds-attendee"]["enrollments"][(EVENT, "5")] == (EVENT, False)
    assert states["07-learner-cancels"]["enrollments"][(EVENT, "4")][1] is True
    assert states["08-admin-suspends-learner"]["users"]["5"] == ("learner", False, False)
    deleted = states["09-trainer-deletes-session"]
    assert deleted["events"][EVENT][-1] is True
    assert deleted["enrollments"][(EVENT, "5")][1] is True
    assert states["10-unsuspend-while-bridge-down"]["users"]["5"] == ("learner", True, False)
    last = states["11-two-dates-and-sign-up"]
    assert {e: last["events"][e][:2] for e in ("f2f:2:1", "f2f:2:2")} == {
        "f2f:2:1": ("Fire safety training (1/2)", "3"), "f2f:2:2": ("Fire safety training (2/2)", "3")}
    two = dates_of(recorded[-1])
    assert [last["sessions"][(e, e)][0] for e in ("f2f:2:1", "f2f:2:2")] == [instant(d["timestart"]) for d in two]
    assert last["enrollments"][("f2f:2:1", "4")] == ("f2f:2:1", False)
    assert last["enrollments"][("f2f:2:2", "4")] == ("f2f:2:2", False)


def test_the_attendee_page_fires_no_event_so_only_the_reconcile_finds_it() -> None:
    added = next(s for s in steps() if s["step"] == "06-manager-adds-attendee")
    assert added["events"] == []
    assert {"userid": 5, "statuscode": 70} in added["snapshot"]["sessions"][0]["signups"]


def test_a_retried_round_is_acknowledged_as_duplicate(client: FlaskClient, php: Php, database: Database) -> None:
    known: dict[str, Any] = {}
    recorded = steps()
    for step in recorded[:3]:
        replay(client, php, step, known)
    unsent = {key: {**value, "sent": False} for key, value in known.items()}
    again = php("round", **round_input(recorded[2]["snapshot"], unsent))
    assert again["actions"], "an unsent plan is sent again"
    before = stored(database)
    for request in again["requests"]:
        answer = post(client, request)
        assert answer.status_code == 200
        body = answer.get_json()
        statuses = [r["status"] for r in body["results"]] if "results" in body else [body["status"]]
        assert set(statuses) == {"duplicate"}
    assert stored(database) == before


def test_a_late_older_delivery_is_ignored(client: FlaskClient, php: Php, database: Database) -> None:
    recorded = {s["step"]: s for s in steps()}
    early = php("round", **round_input(recorded["02-trainer-creates-session"]["snapshot"], {}, ago=100))
    known: dict[str, Any] = {}
    for name in ("03-trainer-assigned", "05-trainer-moves-session"):
        replay(client, php, recorded[name], known)
    after_move = stored(database)
    for request in early["requests"]:
        answer = post(client, request)
        assert answer.status_code == 200
        assert answer.get_json()["status"] == "stale"
    assert stored(database) == after_move


def test_an_altered_body_is_refused_and_nothing_is_stored(client: FlaskClient, php: Php, database: Database) -> None:
    done = php("round", **round_input(steps()[0]["snapshot"], {}, batchonly=True))
    request = done["requests"][0]
    request["body"] = request["body"].replace('"owner"', '"admin"')
    assert post(client, request).status_code == 401
    assert stored(database)["users"] == {}


def test_a_php_launch_token_opens_the_page(client: FlaskClient, php: Php, database: Database) -> None:
    token = php("launch", secret=HOST_SECRET, account=ACCOUNT, user_id="2", role="owner",
                now=int(time.time()), locale="en")["token"]
    answer = client.get("/integrations/outlook", query_string={"launch": token})
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    assert "Microsoft Outlook Calendar" in page.get_data(as_text=True)
    with database.session() as db:
        assert db.get(Account, ACCOUNT) is not None


def test_a_php_launch_token_signed_with_another_secret_is_refused(client: FlaskClient, php: Php) -> None:
    token = php("launch", secret="some-other-secret-0123456789", account=ACCOUNT, user_id="2", role="owner",
                now=int(time.time()))["token"]
    assert client.get("/integrations/outlook", query_string={"launch": token}).status_code == 403


def test_fixtures_hold_no_secret() -> None:
    text = json.dumps(steps())
    assert "e2e-moodle-host-secret" not in text and "pass" not in text.lower()

"""The recorded Moodle 4.5 LTS deadlines run (an assignment and a quiz) replayed through the plugin's PHP.

Each step holds the snapshot the plugin read just before Moodle's task runner ran (``snapshot``), what the
runner printed (``sent``), the deliveries Moodle POSTed to the bridge (``wire``), and what the emulated
Outlook mailboxes held once the bridge's worker had settled (``mailboxes``), docs/MOODLE.md §6.4. The
plugin's PHP (``php``, not Moodle) plans each round again from the snapshot: it must send what Moodle's
task runner counted and exactly the deliveries that went over the wire, and the learners' rows it sent
must be the deadline entries the mailboxes held: one per learner at their own due time, shown free,
gone once done, a group override for the group's members only.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.moodle.conftest import Php, known_after, round_input, steps

RUN = "moodle45-deadlines"
ESSAY, QUIZ = "as:1", "qz:1"
LENA, LARS, GINA = "lena@contoso.example", "lars@contoso-learning.example", "gina.personal@gmail.com"
# The bridge writes no entry for a personal address (Graph cannot reach it): docs/MOODLE.md §1.
UNREACHABLE = {GINA}


def unversioned(delivery: dict[str, Any]) -> tuple[str, str, str]:
    """A delivery without its version (versions are the second the round ran): topic, object, data."""
    data = {key: value for key, value in delivery["data"].items() if key != "version"}
    return delivery["topic"], delivery["id"].rsplit(":", 1)[0], json.dumps(data, sort_keys=True)


def deliveries(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The deliveries a round's requests carry (one on /hooks, several on /hooks/batch)."""
    found: list[dict[str, Any]] = []
    for request in requests:
        body = json.loads(request["body"])
        found.extend(body.get("deliveries", [body]))
    return found


def utc(instant: str) -> str:
    """An RFC 3339 instant as the emulator shows a start in UTC."""
    return datetime.fromisoformat(instant).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")


@pytest.fixture(scope="module")
def replayed(php: Php) -> list[dict[str, Any]]:
    """Every step with the deliveries the PHP planned for it and the deadlines and rows known after it."""
    known: dict[str, Any] = {}
    deadlines: dict[str, dict[str, Any]] = {}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    emails: dict[str, str] = {}
    out = []
    for step in steps(RUN):
        done = php("round", **round_input(step["snapshot"], known, batchonly=step["step"].startswith("01-")))
        known_after(done["actions"], known)
        planned = deliveries(done["requests"])
        for user in step["snapshot"]["users"]:
            emails[str(user["id"])] = user["email"]
        for delivery in planned:
            data = delivery["data"]
            if delivery["topic"] == "deadline.upserted":
                deadlines[data["id"]] = data
            elif delivery["topic"] == "learner_deadline.upserted":
                rows[(data["deadline_id"], data["user_id"])] = data
        out.append({**step, "planned": planned, "deadlines": dict(deadlines), "rows": dict(rows),
                    "emails": dict(emails)})
    return out


def test_each_round_sends_what_moodles_task_runner_counted_and_put_on_the_wire(replayed: list[dict[str, Any]]) -> None:
    assert [step["step"][:2] for step in replayed] == [f"{n:02}" for n in range(1, 12)]
    for step in replayed:
        assert len(step["planned"]) == step["sent"], (step["step"], step["task_output"])
        wire = [delivery for request in step["wire"] for delivery in request["deliveries"]]
        assert all(request["status"] == 202 for request in step["wire"]), step["step"]
        assert sorted(map(unversioned, step["planned"])) == sorted(map(unversioned, wire)), step["step"]


def test_the_events_moodle_fired_are_the_ones_the_plugin_observes(replayed: list[dict[str, Any]]) -> None:
    fired = {step["step"]: [event["eventname"].rsplit("\\", 1)[1] for event in step["events"]] for step in replayed}
    assert fired["02-teacher-creates-assignment"] == ["course_module_created"]
    assert fired["04-teacher-moves-due-date-on-the-web"] == ["course_module_updated"]
    assert fired["05-extension-granted-to-lena"] == ["extension_granted"]
    assert fired["06-group-override-on-the-web"] == ["group_override_created"]
    assert fired["07-quiz-group-override"] == ["group_override_created"]
    assert fired["08-lars-submits-assignment"] == ["assessable_submitted"]
    assert fired["09-lena-finishes-quiz"] == ["attempt_submitted"]
    assert fired["11-reconcile-idle"] == [] and replayed[-1]["sent"] == 0


def test_learner_rows_follow_extension_group_override_and_done(replayed: list[dict[str, Any]]) -> None:
    by = {step["step"][:2]: step for step in replayed}
    lena, lars, gina = "4", "5", "6"
    assert {k: v["due"] for k, v in by["04"]["rows"].items() if k[0] == ESSAY} == {(ESSAY, lena): None,
                                                                                  (ESSAY, lars): None,
                                                                                  (ESSAY, gina): None}
    assert by["04"]["deadlines"][ESSAY]["due"] == "2026-12-16T17:00:00+01:00"
    assert [(d["data"]["user_id"], d["data"]["due"]) for d in by["05"]["planned"]] == [
        (lena, "2026-12-18T17:00:00+01:00")]  # Lena's row alone
    assert [(d["data"]["user_id"], d["data"]["due"]) for d in by["06"]["planned"]] == [
        (lars, "2026-12-17T17:00:00+01:00"), (gina, "2026-12-17T17:00:00+01:00")]  # the group's members only
    assert by["06"]["rows"][(ESSAY, lena)]["due"] == "2026-12-18T17:00:00+01:00"
    assert by["08"]["rows"][(ESSAY, lars)]["done"] is True
    assert by["09"]["rows"][(QUIZ, lena)]["done"] is True
    assert by["10"]["rows"][(ESSAY, lena)] == {"deadline_id": ESSAY, "user_id": lena, "due": None, "done": False,
                                               "version": by["10"]["rows"][(ESSAY, lena)]["version"]}


def test_the_mailboxes_held_one_free_entry_per_open_row_at_the_learners_own_due_time(
        replayed: list[dict[str, Any]]) -> None:
    for step in replayed[1:]:  # from the first deadline on (the account was connected after step 01)
        want: dict[str, list[tuple[str, str]]] = {}
        for (deadline, user), row in step["rows"].items():
            email = step["emails"][user]
            if row["done"] or email in UNREACHABLE:
                continue
            own = step["deadlines"][deadline]
            want.setdefault(email, []).append(("Due: " + own["title"], utc(row["due"] or own["due"])))
        held = {box: sorted((e["subject"], e["start"]) for e in entries)
                for box, entries in step["mailboxes"].items() if entries}
        assert held == {box: sorted(entries) for box, entries in want.items()}, step["step"]
        shown = [e for entries in step["mailboxes"].values() for e in entries]
        assert all(e["showAs"] == "free" and e["reminderMinutesBeforeStart"] == 1440 for e in shown), step["step"]


def test_the_run_ends_with_the_extension_gone_and_work_handed_in_removed(replayed: list[dict[str, Any]]) -> None:
    last = {box: [(e["subject"], e["start"]) for e in entries] for box, entries in replayed[-1]["mailboxes"].items()}
    assert last[LENA] == [("Due: Essay: evacuation plan", "2026-12-16T16:00:00.0000000")]  # the essay's own due
    assert last[LARS] == [("Due: Extinguishers quiz", "2026-12-15T21:00:00.0000000")]  # his group's close time


def test_the_fixtures_hold_no_secret() -> None:
    text = json.dumps(steps(RUN))
    assert "secret" not in text.lower() and "pass" not in text.lower()  # no host secret, no config event of it

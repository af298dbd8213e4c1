"""The deadline rules as a table: (a learner's deadlines, the account's choice, now) → the entries
wanted; and the planner's steps for a deadline's entry (an extension is an update, never a second
entry; done is a deletion; a past one is never touched)."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bridge.codes import Because, EntryState
from bridge.i18n import language
from bridge.lms import rules
from bridge.lms.rules import DeadlinePolicy
from bridge.lms.views import DEADLINE_SESSION, Deadline, Enrollment, Event, LearnerDeadline, Session, User, UserView
from bridge.sync import reconcile
from bridge.sync.deadline_payload import deadline_payload
from bridge.sync.reconcile import Create, Delete, Made, Update

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
ESSAY = Deadline(id="a1", title="Essay", timezone="Europe/Berlin", due=NOW + 48 * H, url="https://lms.example/a1")
QUIZ = Deadline(id="q1", title="Quiz", timezone="Europe/Berlin", due=NOW - H)
ALICE = User(id="alice", email="alice@contoso.com", active=True)
KEEP, OFF = DeadlinePolicy(keep_done=True), DeadlinePolicy(offered=False)


def view(*deadlines: LearnerDeadline, user: User | None = ALICE, enrollments: tuple[Enrollment, ...] = ()) -> UserView:
    return UserView(user_id="alice", user=user, deadlines=deadlines, enrollments=enrollments)


CASES = [
    # (name, view, policy, wanted: deadline id → due instant)
    ("the deadline's own due time", view(LearnerDeadline(ESSAY)), DeadlinePolicy(), {"a1": NOW + 48 * H}),
    ("an extension replaces it", view(LearnerDeadline(ESSAY, NOW + 96 * H)), DeadlinePolicy(), {"a1": NOW + 96 * H}),
    ("an extension into the past: nothing wanted", view(LearnerDeadline(ESSAY, NOW - H)), DeadlinePolicy(), {}),
    ("an extension of a past deadline brings it back", view(LearnerDeadline(QUIZ, NOW + H)), DeadlinePolicy(),
     {"q1": NOW + H}),
    ("a past deadline is never wanted", view(LearnerDeadline(QUIZ)), DeadlinePolicy(), {}),
    ("due right now is past", view(LearnerDeadline(replace(ESSAY, due=NOW))), DeadlinePolicy(), {}),
    ("done: removed", view(LearnerDeadline(ESSAY, done=True)), DeadlinePolicy(), {}),
    ("done, the account keeps them", view(LearnerDeadline(ESSAY, done=True)), KEEP, {"a1": NOW + 48 * H}),
    ("deadlines not offered", view(LearnerDeadline(ESSAY)), OFF, {}),
    ("an inactive user gets none", view(LearnerDeadline(ESSAY), user=replace(ALICE, active=False)),
     DeadlinePolicy(), {}),
    ("a personal address gets none", view(LearnerDeadline(ESSAY), user=replace(ALICE, email="a@gmail.com")),
     DeadlinePolicy(), {}),
    ("waiting for a session choice does not hide a deadline",
     view(LearnerDeadline(ESSAY), enrollments=(Enrollment("e1", None),)), DeadlinePolicy(), {"a1": NOW + 48 * H}),
]


@pytest.mark.parametrize(("name", "user_view", "policy", "wanted"), CASES, ids=[c[0] for c in CASES])
def test_deadline_rule(name: str, user_view: UserView, policy: DeadlinePolicy, wanted: dict[str, datetime]) -> None:
    decision = rules.decide(user_view, None, NOW, policy)
    assert {key: (w.session.start, w.session.end, w.because) for key, w in decision.wanted.items()} == {
        (did, DEADLINE_SESSION): (due, due, Because.DEADLINE) for did, due in wanted.items()}


def test_a_deadline_and_a_session_with_one_id_are_two_entries() -> None:
    session = Session("s1", "a1", 0, NOW + H, NOW + 2 * H)
    event = Event(id="a1", title="Seminar", timezone="UTC", organizer_id="alice", sessions=(session,))
    decision = rules.decide(replace(view(LearnerDeadline(ESSAY)), events={"a1": event}), None, NOW)
    assert set(decision.wanted) == {("a1", "s1"), ("a1", DEADLINE_SESSION)}


def test_the_deadline_ends_are_the_users_own_due_times_done_or_not() -> None:
    ends = rules.deadline_ends(view(LearnerDeadline(ESSAY, NOW + 5 * H, done=True), LearnerDeadline(QUIZ)))
    assert ends == {("a1", DEADLINE_SESSION): NOW + 5 * H, ("q1", DEADLINE_SESSION): NOW - H}


def test_the_payload_is_free_with_the_deadline_reminder_in_the_entry_language() -> None:
    wanted = rules.deadline_entry(LearnerDeadline(replace(ESSAY, description="<p>Two pages</p><script>x</script>")))
    body = deadline_payload(wanted.event, wanted.session, 1440, language("ru"))
    assert body["subject"] == "Срок: Essay" and body["showAs"] == "free"
    assert body["start"] == body["end"] == {"dateTime": "2026-06-03T14:00:00", "timeZone": "Europe/Berlin"}
    assert (body["isReminderOn"], body["reminderMinutesBeforeStart"]) == (True, 1440)
    content = body["body"]["content"]
    assert "Two pages" in content and "script" not in content and 'href="https://lms.example/a1"' in content
    english = deadline_payload(wanted.event, wanted.session, None)
    assert english["subject"] == "Due: Essay" and english["isReminderOn"] is False
    assert "reminderMinutesBeforeStart" not in english
    long = rules.deadline_entry(LearnerDeadline(replace(ESSAY, title="x" * 400)))
    assert len(deadline_payload(long.event, long.session, None)["subject"]) == 255


def made(key: tuple[str, str], ends_at: datetime, payload_hash: str = "old") -> Made:
    return Made(key=key, mailbox_id="box", graph_event_id="g1", transaction_id="t", state=EntryState.ACTIVE,
                payload_hash=payload_hash, material_hash="m", ends_at=ends_at, tag="tag")


KEY = ("a1", DEADLINE_SESSION)
STEPS = [
    # (name, the learner's deadline now (None: no longer applies), recorded due, the action expected)
    ("new deadline: created", LearnerDeadline(ESSAY), None, Create),
    ("an extension: the entry updated in place", LearnerDeadline(ESSAY, NOW + 96 * H), NOW + 48 * H, Update),
    ("handed in: deleted", LearnerDeadline(ESSAY, done=True), NOW + 48 * H, Delete),
    ("no longer applies: deleted", None, NOW + 48 * H, Delete),
    ("handed in after the due time: untouched", LearnerDeadline(QUIZ, done=True), NOW - H, None),
    ("an extension taken back into the past: untouched", LearnerDeadline(ESSAY, NOW - H), NOW + 3 * H, None),
]


@pytest.mark.parametrize(("name", "mine", "recorded", "expected"), STEPS, ids=[s[0] for s in STEPS])
def test_deadline_step(name: str, mine: LearnerDeadline | None, recorded: datetime | None,
                       expected: type | None) -> None:
    user_view = view(*([mine] if mine else []))
    desired = reconcile.desired_entries(rules.decide(user_view, None, NOW), "acme", "alice", 15)
    entries = {KEY: made(KEY, recorded)} if recorded else {}
    actions = reconcile.plan(desired, entries, "box", NOW, rules.deadline_ends(user_view))
    assert [type(a) for a in actions] == ([expected] if expected else [])

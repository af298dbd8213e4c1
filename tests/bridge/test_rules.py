"""The rules of docs/BEHAVIOUR.md (items 3–6) as a table: LMS state + now → the entries wanted."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bridge.codes import Because, Reason
from bridge.lms import eligibility, rules
from bridge.lms.views import Enrollment, Event, Session, User, UserView

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def session(sid: str, start: datetime, hours: int = 2, event: str = "e1") -> Session:
    return Session(id=sid, event_id=event, position=int(sid[-1]), start=start, end=start + hours * H)


PAST = session("s0", NOW - 5 * H)
RUNNING = session("s1", NOW - H)
NEXT = session("s2", NOW + 24 * H)
LATER = session("s3", NOW + 48 * H)
EVENT = Event(id="e1", title="Safety", timezone="Europe/Berlin", organizer_id="org",
              sessions=(PAST, RUNNING, NEXT, LATER))
ALICE = User(id="alice", email="alice@contoso.com", active=True)


def view(user: User | None = ALICE, events: tuple[Event, ...] = (EVENT,),
         enrollments: tuple[Enrollment, ...] = ()) -> UserView:
    uid = user.id if user else "alice"
    return UserView(user_id=uid, user=user, events={e.id: e for e in events}, enrollments=enrollments)


CASES = [
    # (name, view, verified domains, wanted session ids, skip reason)
    ("organizer gets every session not yet ended",
     view(replace(ALICE, id="org")), None, {"s1", "s2", "s3"}, None),
    ("assigned learner gets that session",
     view(enrollments=(Enrollment("e1", "s2"),)), None, {"s2"}, None),
    ("enrolled without a session chosen gets nothing",
     view(enrollments=(Enrollment("e1", None),)), None, set(), Reason.NO_SESSION_CHOSEN),
    ("a session in progress is still wanted",
     view(enrollments=(Enrollment("e1", "s1"),)), None, {"s1"}, None),
    ("a past session is never wanted",
     view(enrollments=(Enrollment("e1", "s0"),)), None, set(), None),
    ("a cancelled event gives nothing",
     view(events=(replace(EVENT, cancelled=True),), enrollments=(Enrollment("e1", "s2"),)), None, set(), None),
    ("a deleted event (absent from the view) gives nothing",
     view(events=(), enrollments=(Enrollment("e1", "s2"),)), None, set(), None),
    ("a session removed from the event gives nothing",
     view(events=(replace(EVENT, sessions=(PAST, RUNNING, LATER)),), enrollments=(Enrollment("e1", "s2"),)),
     None, set(), Reason.NO_SESSION_CHOSEN),
    ("an inactive user gets nothing",
     view(replace(ALICE, active=False), enrollments=(Enrollment("e1", "s2"),)), None, set(), Reason.INACTIVE),
    ("a deleted user gets nothing",
     view(None, enrollments=(Enrollment("e1", "s2"),)), None, set(), Reason.DELETED),
    ("a personal address is skipped",
     view(replace(ALICE, email="alice@gmail.com"), enrollments=(Enrollment("e1", "s2"),)), None, set(),
     Reason.PERSONAL_EMAIL),
    ("a personal address in capitals is skipped too",
     view(replace(ALICE, email="Alice@Yandex.RU"), enrollments=(Enrollment("e1", "s2"),)), None, set(),
     Reason.PERSONAL_EMAIL),
    ("an address outside the tenant's verified domains is skipped",
     view(replace(ALICE, email="alice@partner.org"), enrollments=(Enrollment("e1", "s2"),)),
     ("contoso.com",), set(), Reason.DOMAIN_NOT_IN_TENANT),
    ("an address in a verified domain is synced",
     view(enrollments=(Enrollment("e1", "s2"),)), ("Contoso.com", "fabrikam.com"), {"s2"}, None),
    ("organizer and learner of one session get it once",
     view(replace(ALICE, id="org"), enrollments=(Enrollment("e1", "s2"),)), None, {"s1", "s2", "s3"}, None),
    ("enrolled without choice in one event, assigned in another: the assigned one",
     view(events=(EVENT, replace(EVENT, id="e2", sessions=(replace(LATER, event_id="e2"),))),
          enrollments=(Enrollment("e1", None), Enrollment("e2", "s3"))), None, {"s3"}, None),
]


@pytest.mark.parametrize(("name", "user_view", "domains", "wanted", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rule(name: str, user_view: UserView, domains: tuple[str, ...] | None, wanted: set[str],
              reason: str | None) -> None:
    decision = rules.decide(user_view, domains, NOW)
    assert {key[1] for key in decision.wanted} == wanted
    assert decision.skip_reason == reason


def test_why_each_entry_is_wanted() -> None:
    decision = rules.decide(view(replace(ALICE, id="org"), enrollments=(Enrollment("e1", "s2"),)), None, NOW)
    assert decision.wanted[("e1", "s2")].because == Because.ORGANIZER
    learner = rules.decide(view(enrollments=(Enrollment("e1", "s2"),)), None, NOW)
    assert learner.wanted[("e1", "s2")].because == Because.ASSIGNED


def test_consumer_domains_are_data() -> None:
    domains = eligibility.consumer_domains()
    assert {"gmail.com", "yandex.ru", "mail.ru", "outlook.com", "hotmail.com", "icloud.com"} <= domains
    assert "contoso.com" not in domains

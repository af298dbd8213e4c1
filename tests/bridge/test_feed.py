"""The feed's RFC 5545 text, read back by an independent parser (vobject) across DST edges."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.codes import FeedMode
from bridge.feeds import ical
from bridge.feeds import store as feed_store
from bridge.lms import rules
from bridge.lms.views import Deadline, Event, LearnerDeadline, Session
from tests.feed_support import ZONES, around_transitions, parse

STAMP = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SOON = datetime(2026, 12, 1, tzinfo=UTC)


def item_at(zone: str, start: datetime, minutes: int = 60, **event: object) -> ical.Item:
    session = Session(id="s1", event_id="e1", position=0, start=start, end=start + timedelta(minutes=minutes))
    ev = Event(id="e1", title="Induction", timezone=zone, sessions=(session,), **event)  # type: ignore[arg-type]
    return ical.item(ev, session, 15, uid=ical.uid("acme", "u1", "e1", f"{zone}{start}"), sequence=0,
                     changed_at=STAMP)


@pytest.mark.parametrize("zone", ZONES)
def test_instants_either_side_of_dst_changes_read_back_exactly(zone: str) -> None:
    instants = around_transitions(zone, SOON, count=2)
    items = [item_at(zone, start) for start in instants]
    body = ical.calendar(items, "LMS sessions")
    _, events = parse(body)
    assert sorted(e.start for e in events.values()) == sorted(instants)
    assert all(e.end - e.start == timedelta(hours=1) for e in events.values())
    assert f"TZID:{zone}".encode() in body  # a VTIMEZONE for the event's zone
    ours = icalendar.Calendar.from_ical(body)  # and the library that wrote it agrees
    assert sorted(c.decoded("dtstart").astimezone(UTC) for c in ours.walk("VEVENT")) == sorted(instants)


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from((*ZONES, "UTC", "Asia/Kolkata")),
       offset=st.integers(min_value=-36 * 60, max_value=36 * 60), minutes=st.integers(1, 600))
def test_any_instant_near_a_dst_change_round_trips(zone: str, offset: int, minutes: int) -> None:
    edge = around_transitions("Europe/Berlin" if zone not in ZONES else zone, SOON, count=1)[2]
    start = edge + timedelta(minutes=offset)
    _, events = parse(ical.calendar([item_at(zone, start, minutes)], "x"))
    [event] = events.values()
    assert (event.start, event.end) == (start, start + timedelta(minutes=minutes))


def test_repeated_hour_is_written_in_utc_not_as_an_ambiguous_wall_time() -> None:
    repeated = around_transitions("America/New_York", datetime(2026, 10, 1, tzinfo=UTC), 1)
    fall_back = [i for i in repeated if i.month == 11][2]  # 30 min before clocks go back: 01:30 EDT
    body = ical.calendar([item_at("America/New_York", fall_back)], "x")
    assert f"DTSTART:{fall_back:%Y%m%dT%H%M%S}Z".encode() in body


def test_a_deadline_is_an_instant_that_does_not_block_the_calendar() -> None:
    due = datetime(2027, 3, 1, 22, 59, tzinfo=UTC)
    wanted = rules.deadline_entry(LearnerDeadline(Deadline("a1", "Essay", "Europe/Berlin", due, url="https://x.example/a")))
    item = ical.item(wanted.event, wanted.session, 1440, uid="d1@x", sequence=0, changed_at=STAMP)
    body = ical.calendar([item], "x")
    [event] = parse(body)[1].values()
    assert (event.summary, event.start, event.end, event.alarm_minutes) == ("Due: Essay", due, due, 1440)
    assert b"TRANSP:TRANSPARENT" in body and event.url == "https://x.example/a"
    session_body = ical.calendar([item_at("Europe/Berlin", due)], "x")
    assert b"TRANSP:OPAQUE" in session_body


def test_event_says_what_the_outlook_entry_says() -> None:
    start = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    entry = item_at("Europe/Berlin", start, description="Bring <b>boots</b> & gloves.\nSecond line",
                    url="https://lms.example.com/e1", online_url="https://meet.example.com/x")
    _, events = parse(ical.calendar([entry], "LMS sessions"))
    [event] = events.values()
    assert event.summary == "Induction" and event.status == "CONFIRMED" and event.sequence == 0
    assert event.url == "https://lms.example.com/e1"
    assert event.location == "Online"
    assert event.alarm_minutes == 15
    assert event.stamp == event.last_modified == STAMP
    assert event.description is not None
    lines = event.description.splitlines()
    assert lines[0] == "Bring boots & gloves."  # the description is HTML: its text, tags dropped, entities decoded
    assert lines[1] == "Second line"
    assert "Join: https://meet.example.com/x" in lines
    assert "Open in the LMS: https://lms.example.com/e1" in lines


def test_calendar_properties_and_cancelled_events() -> None:
    cancelled = ical.Item(uid="x@y", sequence=3, changed_at=STAMP, start=SOON, end=SOON + timedelta(hours=1),
                          timezone="Europe/Berlin", summary="Gone", cancelled=True, reminder_minutes=10)
    body = ical.calendar([cancelled], "LMS sessions")
    calendar, events = parse(body)
    assert events["x@y"].status == "CANCELLED" and events["x@y"].sequence == 3
    assert events["x@y"].alarm_minutes is None  # nothing to be reminded of
    assert calendar.refresh_interval.value == "PT15M"  # type: ignore[attr-defined]
    assert calendar.refresh_interval.params == {"VALUE": ["DURATION"]}  # type: ignore[attr-defined]
    assert calendar.x_published_ttl.value == "PT15M"  # type: ignore[attr-defined]
    assert b"VERSION:2.0" in body and b"PRODID:" in body


def test_no_reminder_means_no_alarm_and_empty_feed_is_valid() -> None:
    start = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    session = Session(id="s1", event_id="e1", position=0, start=start, end=start + timedelta(hours=1))
    ev = Event(id="e1", title="T", timezone="UTC", sessions=(session,))
    entry = ical.item(ev, session, None, uid="u@x", sequence=0, changed_at=STAMP)
    _, events = parse(ical.calendar([entry], "x"))
    assert events["u@x"].alarm_minutes is None
    _, none = parse(ical.calendar([], "x"))
    assert none == {}


@pytest.mark.parametrize(("html", "text"), [
    ("<html><body><p>One &amp; two</p><p>Three<br>four</p></body></html>", "One & two\nThree\nfour"),
    ("<ul><li>a</li><li>b</li></ul><script>x</script>", "a\nb\nx"),
    ("plain   text", "plain text"),
    ("", ""),
])
def test_html_to_text(html: str, text: str) -> None:
    assert ical.html_to_text(html) == text


def test_uid_is_stable_and_names_no_id() -> None:
    uid = ical.uid("acme", "user-42", "event-7", "session-9")
    assert uid == ical.uid("acme", "user-42", "event-7", "session-9")
    assert uid != ical.uid("acme", "user-43", "event-7", "session-9")
    assert not any(part in uid for part in ("acme", "user-42", "event-7", "session-9"))


@pytest.mark.parametrize(("state", "email", "recorded", "why"), [
    ("connected", "ada@gmail.com", None, "personal_email"),
    ("connected", "ada@other.example", None, "domain_not_in_tenant"),
    ("connected", None, None, "no_email"),
    ("connected", "ada@corp.example", "mailbox_not_in_exchange_online", "mailbox_not_in_exchange_online"),
    ("suspended", "ada@corp.example", "user_not_found", "user_not_found"),
    ("connected", "ada@corp.example", "no_upcoming_sessions", None),
    ("connected", "ada@corp.example", None, None),
    ("disconnected", "ada@corp.example", None, "not_connected"),
    (None, "ada@gmail.com", None, "personal_email"),
])
def test_who_graph_cannot_reach(state: str | None, email: str | None, recorded: str | None, why: str | None) -> None:
    assert feed_store.unreachable(connection_state=state, email=email, verified_domains=["corp.example"],
                                  recorded_reason=recorded) == why
    assert feed_store.offer(FeedMode.UNREACHABLE, why) is (why is not None)
    assert feed_store.offer(FeedMode.EVERYONE, why) is True
    assert feed_store.offer(FeedMode.OFF, why) is False

"""What an entry says: subject, body, instants in the event's zone across DST, reminder, tag."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bridge.graph.calendar import TAG_PROPERTY_ID
from bridge.lms.views import Event, Session
from bridge.sync import payload, zones


def make(zone: str, local_start: datetime, hours: float = 2, **event: object) -> tuple[Event, Session]:
    start = local_start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    s = Session(id="s1", event_id="e1", position=0, start=start, end=start + timedelta(hours=hours))
    return Event(id="e1", title="Induction", timezone=zone, sessions=(s,), **event), s  # type: ignore[arg-type]


# (zone, local start, hours, expected local start, expected local end, Graph zone name)
DST_EDGES = [
    # Berlin springs forward 2026-03-29 02:00 → 03:00: a 01:30 start lasting 2 h ends 04:30 local
    ("Europe/Berlin", datetime(2026, 3, 29, 1, 30), 2, "2026-03-29T01:30:00", "2026-03-29T04:30:00",
     "Europe/Berlin"),
    # Berlin falls back 2026-10-25 03:00 → 02:00: 00:30 + 4 h ends 03:30 local
    ("Europe/Berlin", datetime(2026, 10, 25, 0, 30), 4, "2026-10-25T00:30:00", "2026-10-25T03:30:00",
     "Europe/Berlin"),
    # New York springs forward 2026-03-08 02:00 → 03:00
    ("America/New_York", datetime(2026, 3, 8, 1, 0), 2, "2026-03-08T01:00:00", "2026-03-08T04:00:00",
     "America/New_York"),
    # New York falls back 2026-11-01 02:00 → 01:00
    ("America/New_York", datetime(2026, 11, 1, 0, 0), 3, "2026-11-01T00:00:00", "2026-11-01T02:00:00",
     "America/New_York"),
    # Sydney falls back 2026-04-05 03:00 → 02:00 (southern hemisphere, April)
    ("Australia/Sydney", datetime(2026, 4, 5, 0, 30), 4, "2026-04-05T00:30:00", "2026-04-05T03:30:00",
     "Australia/Sydney"),
    # Sydney springs forward 2026-10-04 02:00 → 03:00
    ("Australia/Sydney", datetime(2026, 10, 4, 1, 30), 2, "2026-10-04T01:30:00", "2026-10-04T04:30:00",
     "Australia/Sydney"),
    # a zone Graph refuses by its IANA name goes as its Windows name, same wall time
    ("Europe/Madrid", datetime(2026, 3, 29, 9, 0), 2, "2026-03-29T09:00:00", "2026-03-29T11:00:00",
     "Romance Standard Time"),
]


@pytest.mark.parametrize(("zone", "local", "hours", "start", "end", "graph_zone"), DST_EDGES)
def test_instants_across_dst(zone: str, local: datetime, hours: float, start: str, end: str,
                             graph_zone: str) -> None:
    event, session = make(zone, local, hours)
    body = payload.entry_payload(event, session, 15, "tag")
    assert body["start"] == {"dateTime": start, "timeZone": graph_zone}
    assert body["end"] == {"dateTime": end, "timeZone": graph_zone}
    # the wall times name the same instants as the session
    for field, instant in (("start", session.start), ("end", session.end)):
        wall = datetime.fromisoformat(body[field]["dateTime"]).replace(tzinfo=ZoneInfo(zone))
        assert wall.astimezone(UTC) == instant


@pytest.mark.parametrize(("zone", "local"), [("Europe/Berlin", datetime(2026, 10, 25, 2, 30)),
                                             ("America/New_York", datetime(2026, 11, 1, 1, 30)),
                                             ("Australia/Sydney", datetime(2026, 4, 5, 2, 30))])
def test_a_repeated_wall_time_goes_as_utc(zone: str, local: datetime) -> None:
    """In the hour that happens twice, the second 02:30 must not be read as the first one."""
    second = local.replace(tzinfo=ZoneInfo(zone), fold=1).astimezone(UTC)
    event, session = make(zone, local)
    session = Session(id="s1", event_id="e1", position=0, start=second, end=second + timedelta(hours=1))
    body = payload.entry_payload(event, session, 15, "t")
    assert body["start"] == {"dateTime": second.replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def test_zone_names() -> None:
    assert zones.graph_zone_name("Europe/Berlin") == "Europe/Berlin"
    assert zones.graph_zone_name("Europe/Amsterdam") == "W. Europe Standard Time"
    assert zones.graph_zone_name("Etc/Unknown") == "UTC"


def test_subject_carries_the_session_label_only_when_there_are_several() -> None:
    event, session = make("Europe/Berlin", datetime(2026, 6, 1, 9))
    assert payload.subject(event, session) == "Induction"
    second = Session(id="s2", event_id="e1", position=1, start=session.start, end=session.end, title="Group B")
    third = Session(id="s3", event_id="e1", position=2, start=session.start, end=session.end)
    several = Event(id="e1", title="Induction", timezone="Europe/Berlin", sessions=(session, second, third))
    assert payload.subject(several, second) == "Induction — Group B"
    assert payload.subject(several, third) == "Induction — Session 3"


def test_long_titles_are_shortened_and_keep_the_session_label() -> None:
    """A 300-character title with sessions "Day 1" and "Day 2": distinct subjects of at most 255."""
    _, first = make("Europe/Berlin", datetime(2026, 6, 1, 9))
    first = Session(id="s1", event_id="e1", position=0, start=first.start, end=first.end, title="Day 1")
    second = Session(id="s2", event_id="e1", position=1, start=first.start, end=first.end, title="Day 2")
    title = "Advanced workplace safety " * 12  # 312 characters
    long = Event(id="e1", title=title[:300], timezone="Europe/Berlin", sessions=(first, second))
    subjects = [payload.subject(long, s) for s in (first, second)]
    assert [len(s) for s in subjects] == [255, 255]
    assert subjects[0].endswith("… — Day 1") and subjects[1].endswith("… — Day 2")
    assert subjects[0].startswith("Advanced workplace safety Advanced")
    alone = Event(id="e1", title="T" * 300, timezone="Europe/Berlin", sessions=(first,))
    assert payload.subject(alone, first) == "T" * 254 + "…"


def test_lengths_are_counted_in_utf16_units_as_exchange_does() -> None:
    """An emoji is two UTF-16 units; the cut never splits one, and the result fits in 255 units."""
    cut = payload.shorten("\U0001F600" * 200)
    assert cut == "\U0001F600" * 127 + "…"
    assert len(cut.encode("utf-16-le")) // 2 == 255
    assert payload.shorten("short") == "short"


def test_long_labels_and_locations_are_shortened_too() -> None:
    event, first = make("Europe/Berlin", datetime(2026, 6, 1, 9), location="R" * 300)
    label = Session(id="s2", event_id="e1", position=1, start=first.start, end=first.end, title="L" * 400)
    several = Event(id="e1", title="Induction", timezone="Europe/Berlin", sessions=(first, label),
                    location="R" * 300)
    assert payload.subject(several, label) == "Induction — " + "L" * 126 + "…"
    assert payload.session_payload(event, first, None)["location"] == {"displayName": "R" * 254 + "…"}


def test_body_is_sanitized_and_has_time_join_and_lms_links() -> None:
    event, session = make("Europe/Berlin", datetime(2026, 6, 1, 9), description="<script>x</script>\nline 2",
                          url="https://lms.example/e?a=1&b=2", online_url="https://meet.example/j/1")
    html = payload.entry_payload(event, session, 15, "tag")["body"]["content"]
    assert "<script" not in html and ">x<" not in html
    assert "<div>\nline 2</div>" in html
    assert "09:00 – 11:00 (Europe/Berlin)" in html
    assert 'href="https://meet.example/j/1"' in html
    assert 'href="https://lms.example/e?a=1&amp;b=2"' in html


def test_entry_fields() -> None:
    event, session = make("Europe/Berlin", datetime(2026, 6, 1, 9), location="Room 1")
    body = payload.entry_payload(event, session, 15, "tag-1")
    assert body["showAs"] == "busy"
    assert body["isReminderOn"] is True and body["reminderMinutesBeforeStart"] == 15
    assert body["location"] == {"displayName": "Room 1"}
    assert body["singleValueExtendedProperties"] == [{"id": TAG_PROPERTY_ID, "value": "tag-1"}]
    assert "attendees" not in body
    silent = payload.entry_payload(event, session, None, "tag-1")
    assert silent["isReminderOn"] is False and "reminderMinutesBeforeStart" not in silent


def test_hashes() -> None:
    event, session = make("Europe/Berlin", datetime(2026, 6, 1, 9), location="Room 1")
    renamed = Event(id="e1", title="Renamed", timezone="Europe/Berlin", sessions=(session,), location="Room 1")
    moved = Event(id="e1", title="Induction", timezone="Europe/Berlin", sessions=(session,), location="Room 2")
    base = payload.entry_payload(event, session, 15, "t")
    assert payload.payload_hash(base) != payload.payload_hash(payload.entry_payload(renamed, session, 15, "t"))
    assert payload.material_hash(event, session) == payload.material_hash(renamed, session)
    assert payload.material_hash(event, session) != payload.material_hash(moved, session)


def test_tag_is_stable_and_distinct() -> None:
    assert payload.tag_value("a", "u", "e", "s") == payload.tag_value("a", "u", "e", "s")
    assert payload.tag_value("a", "u", "e", "s") != payload.tag_value("b", "u", "e", "s")

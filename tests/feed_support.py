"""Reading the feeds the tests produce with an independent parser (vobject), and DST edges."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import vobject

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney")


@dataclass(frozen=True)
class Parsed:
    """One VEVENT as vobject reads it; instants in UTC."""

    uid: str
    sequence: int
    status: str
    start: datetime
    end: datetime
    summary: str
    stamp: datetime
    last_modified: datetime
    description: str | None
    location: str | None
    url: str | None
    alarm_minutes: int | None


def _value(vevent: object, name: str) -> str | None:
    found = getattr(vevent, name, None)
    return None if found is None else found.value


def parse(body: bytes) -> tuple[object, dict[str, Parsed]]:
    """The calendar and its events by UID, read by vobject (raises on anything it cannot parse)."""
    calendar = vobject.readOne(body.decode("utf-8"))
    events = {}
    for vevent in getattr(calendar, "vevent_list", []):
        alarm = getattr(vevent, "valarm", None)
        trigger = alarm.trigger.value if alarm is not None else None
        events[vevent.uid.value] = Parsed(
            uid=vevent.uid.value, sequence=int(vevent.sequence.value), status=vevent.status.value,
            start=vevent.dtstart.value.astimezone(UTC), end=vevent.dtend.value.astimezone(UTC),
            summary=vevent.summary.value, stamp=vevent.dtstamp.value.astimezone(UTC),
            last_modified=vevent.last_modified.value.astimezone(UTC), description=_value(vevent, "description"),
            location=_value(vevent, "location"), url=_value(vevent, "url"),
            alarm_minutes=None if trigger is None else int(-trigger / timedelta(minutes=1)))
    return calendar, events


def next_transition(zone: str, after: datetime) -> datetime:
    """The first instant after ``after`` at which the zone's UTC offset changes (to the hour)."""
    tz = ZoneInfo(zone)
    instant = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    offset = instant.astimezone(tz).utcoffset()
    for _ in range(24 * 400):
        instant += timedelta(hours=1)
        if instant.astimezone(tz).utcoffset() != offset:
            return instant
    raise AssertionError(f"{zone} has no offset change within 400 days")


def around_transitions(zone: str, after: datetime, count: int = 2) -> list[datetime]:
    """Instants on both sides of the zone's next ``count`` offset changes: 10:00 local the day before
    and the day after, and the instants 30 minutes before and after each change (the skipped or
    repeated hour)."""
    tz = ZoneInfo(zone)
    found: list[datetime] = []
    cursor = after
    for _ in range(count):
        change = next_transition(zone, cursor)
        for days in (-1, 1):
            day = (change + timedelta(days=days)).astimezone(tz)
            found.append(day.replace(hour=10, minute=0).astimezone(UTC))
        found += [change - timedelta(minutes=30), change + timedelta(minutes=30)]
        cursor = change + timedelta(days=2)
    return found

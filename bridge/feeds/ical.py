"""A user's calendar feed as RFC 5545 text: rows in, bytes out (pure; built with ``icalendar``).

Each session the rules give the user is one ``VEVENT`` saying what the Outlook entry says
(:mod:`bridge.sync.payload`): its subject, its body turned into text, its place, the LMS link and the
account's reminder. A session that stopped being the user's while still ahead stays in the feed as
``STATUS:CANCELLED`` until its end, so subscribed calendars remove it instead of keeping it forever.
A deadline is an instant-long ``VEVENT`` saying what its Outlook entry says
(:mod:`bridge.sync.deadline_payload`), ``TRANSP:TRANSPARENT`` (RFC 5545 3.8.2.7: it does not take
up time in free/busy look-ups, as ``showAs: free`` in Outlook), with the deadline reminder.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import icalendar

from bridge.lms.views import DEADLINE_SESSION, Event, Session
from bridge.sync import deadline_payload, payload, zones

PRODUCT_ID = "-//Outlook Calendar for the LMS//Calendar feed//EN"
REFRESH = timedelta(minutes=15)  # REFRESH-INTERVAL and X-PUBLISHED-TTL: how often clients should poll
UID_DOMAIN = "outlook-calendar-lms"


@dataclass(frozen=True)
class Item:
    """One ``VEVENT`` of a feed: what it shows, and its place in the history of changes.

    ``changed_at`` is when the feed first showed it as it is now (``DTSTAMP`` and ``LAST-MODIFIED``);
    ``sequence`` grows with every change of what it shows; ``start``/``end`` are aware instants.
    """

    uid: str
    sequence: int
    changed_at: datetime
    start: datetime
    end: datetime
    timezone: str
    summary: str
    description: str | None = None
    location: str | None = None
    url: str | None = None
    reminder_minutes: int | None = None
    cancelled: bool = False
    transparent: bool = False  # a deadline: TRANSP:TRANSPARENT (free), else OPAQUE (busy)


def uid(account_id: str, user_id: str, event_id: str, session_id: str) -> str:
    """The ``UID`` of a user's entry for a session: stable, and naming no id of the LMS."""
    return f"{payload.tag_value(account_id, user_id, event_id, session_id)}@{UID_DOMAIN}"


def content_hash(event: Event, session: Session, reminder_minutes: int | None) -> str:
    """Changes whenever anything the entry shows changes (the Outlook entry's own hash)."""
    build = deadline_payload.deadline_payload if session.id == DEADLINE_SESSION else payload.session_payload
    return payload.payload_hash(build(event, session, reminder_minutes))


def summary(event: Event, session: Session) -> str:
    """What the ``VEVENT`` is called: the Outlook entry's subject (in English)."""
    if session.id == DEADLINE_SESSION:
        return deadline_payload.deadline_subject(event)
    return payload.subject(event, session)


def item(event: Event, session: Session, reminder_minutes: int | None, *, uid: str, sequence: int,
         changed_at: datetime) -> Item:
    """The ``VEVENT`` of a session (or a deadline: its "session" keyed :data:`DEADLINE_SESSION`) the
    user has, saying what its Outlook entry says."""
    if session.id == DEADLINE_SESSION:
        return Item(uid=uid, sequence=sequence, changed_at=changed_at, start=session.start, end=session.end,
                    timezone=event.timezone, summary=summary(event, session),
                    description=html_to_text(deadline_payload.deadline_body(event, session)), url=event.url,
                    reminder_minutes=reminder_minutes, transparent=True)
    join = session.online_url or event.online_url
    return Item(uid=uid, sequence=sequence, changed_at=changed_at, start=session.start, end=session.end,
                timezone=event.timezone, summary=summary(event, session),
                description=html_to_text(payload.body_html(event, session)),
                location=session.location or event.location or ("Online" if join else None),
                url=event.url or join, reminder_minutes=reminder_minutes)


class _Text(HTMLParser):
    """Collects an HTML body's text: paragraphs and line breaks become new lines."""

    BREAKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body: tags dropped, entities decoded, blocks on lines of their own."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _when(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant as wall time in the event's zone (an IANA name, validated at ingest), or in UTC
    when that wall time happens twice (the repeated hour when clocks fall back names no instant)."""
    local = instant.astimezone(zone)
    return instant.astimezone(UTC) if zones.ambiguous(local) else local


def _vevent(entry: Item) -> icalendar.Event:
    zone = ZoneInfo(entry.timezone)
    vevent = icalendar.Event()
    vevent.add("uid", entry.uid)
    vevent.add("sequence", entry.sequence)
    vevent.add("dtstamp", entry.changed_at.astimezone(UTC))
    vevent.add("last-modified", entry.changed_at.astimezone(UTC))
    vevent.add("dtstart", _when(entry.start, zone))
    vevent.add("dtend", _when(entry.end, zone))
    vevent.add("summary", entry.summary)
    vevent.add("transp", "TRANSPARENT" if entry.transparent else "OPAQUE")
    if entry.cancelled:
        vevent.add("status", "CANCELLED")
        return vevent
    vevent.add("status", "CONFIRMED")
    for name, value in (("description", entry.description), ("location", entry.location), ("url", entry.url)):
        if value:
            vevent.add(name, value)
    if entry.reminder_minutes is not None:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", entry.summary)
        alarm.add("trigger", timedelta(minutes=-entry.reminder_minutes))
        vevent.add_component(alarm)
    return vevent


def calendar(items: Sequence[Item], name: str) -> bytes:
    """The whole feed, UTF-8: ``VCALENDAR`` with one ``VEVENT`` per item (in the given order) and
    a ``VTIMEZONE`` for every zone they use, covering the years they span."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODUCT_ID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal["X-PUBLISHED-TTL"] = icalendar.vDuration(REFRESH)
    for entry in items:
        cal.add_component(_vevent(entry))
    if items:
        first, last = _span(items)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical()


def _span(items: Sequence[Item]) -> tuple[date, date]:
    """Dates the ``VTIMEZONE`` blocks must cover: from a year before the first item to after the last."""
    return (min(i.start for i in items).date() - timedelta(days=366),
            max(i.end for i in items).date() + timedelta(days=366))

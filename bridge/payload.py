"""What an Outlook entry says: the Graph event body for one session, and its hashes.

Pure: the same session and settings always give the same payload, so a hash of it tells the
reconciler whether an entry needs rewriting at all.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from bridge.lms import Event, Session
from bridge.richtext import description_html
from bridge.zones import graph_datetime

TAG_PROPERTY_ID = "String {6f1c3b9e-2f4a-4c8e-9a51-0d7e5b1c2a47} Name OutlookCalendarForLmsKey"


def tag_value(account_id: str, user_id: str, event_id: str, session_id: str) -> str:
    """The plugin's key for an entry, stored on it so an unknown outcome can be looked up."""
    digest = hashlib.sha256("\x1f".join((account_id, user_id, event_id, session_id)).encode()).hexdigest()
    return f"lms1-{digest[:40]}"


# Exchange keeps at most 255 UTF-16 units of an item's subject (EWS cuts longer ones and appends
# "...": facts.md) and of its location (MS-OXCICAL 2.1.3.1.1.20.10: LOCATION is cut to 255 WCHARs,
# never splitting a surrogate pair; Outlook's Location.setAsync takes at most 255 characters).
MAX_TEXT_UNITS = 255
ELLIPSIS = "…"


def _units(text: str) -> int:
    """Length in UTF-16 code units, as Exchange counts characters."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int = MAX_TEXT_UNITS) -> str:
    """``text`` if it fits in ``limit`` UTF-16 units, else its head and an ellipsis that do."""
    if _units(text) <= limit:
        return text
    kept, used = [], _units(ELLIPSIS)
    for char in text:
        used += _units(char)
        if used > limit:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


def subject(event: Event, session: Session) -> str:
    """The event title, with the session's label when the event has several.

    At most 255 UTF-16 units, the label kept: a long title is shortened with an ellipsis (and a
    label longer than half the room is shortened too), so the sessions' subjects stay distinct.
    """
    if len(event.sessions) <= 1:
        return shorten(event.title)
    label = shorten(session.title or f"Session {session.position + 1}", MAX_TEXT_UNITS // 2)
    suffix = f" — {label}"
    return shorten(event.title, MAX_TEXT_UNITS - _units(suffix)) + suffix


def _when(event: Event, session: Session) -> str:
    zone = ZoneInfo(event.timezone)
    start, end = session.start.astimezone(zone), session.end.astimezone(zone)
    day = f"{start:%A}, {start.day} {start:%B %Y}, {start:%H:%M}"
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%A}, {end.day} {end:%B %Y}, {end:%H:%M}"
    return f"{day} – {until} ({event.timezone})"


def _link(label: str, url: str) -> str:
    return f'<p>{escape(label)}: <a href="{escape(url, quote=True)}">{escape(url)}</a></p>'


def body_html(event: Event, session: Session) -> str:
    """The entry's body: description (HTML, sanitized), time in the event's zone, join link, link
    back to the LMS."""
    parts = []
    if event.description:
        parts.append("<div>" + description_html(event.description) + "</div>")
    parts.append(f"<p>When: {escape(_when(event, session))}</p>")
    join = session.online_url or event.online_url
    if join:
        parts.append(_link("Join", join))
    if event.url:
        parts.append(_link("Open in the LMS", event.url))
    return "<html><body>" + "".join(parts) + "</body></html>"


def _place(event: Event, session: Session) -> dict[str, str]:
    name = session.location or event.location
    join = session.online_url or event.online_url
    if name:
        return {"displayName": shorten(name)}
    if join:
        return {"displayName": "Online", "locationUri": join}
    return {}


def session_payload(event: Event, session: Session, reminder_minutes: int | None) -> dict[str, Any]:
    """The Graph ``event`` body for one session, the same for everyone who has it (no attendees:
    nobody is e-mailed); :func:`with_tag` adds the entry's own tag."""
    payload: dict[str, Any] = {
        "subject": subject(event, session),
        "body": {"contentType": "html", "content": body_html(event, session)},
        "start": graph_datetime(session.start, event.timezone),
        "end": graph_datetime(session.end, event.timezone),
        "showAs": "busy",
        "isReminderOn": reminder_minutes is not None,
        "location": _place(event, session) or {"displayName": ""},
    }
    if reminder_minutes is not None:
        payload["reminderMinutesBeforeStart"] = reminder_minutes
    return payload


def with_tag(payload: dict[str, Any], tag: str) -> dict[str, Any]:
    return {**payload, "singleValueExtendedProperties": [{"id": TAG_PROPERTY_ID, "value": tag}]}


def entry_payload(event: Event, session: Session, reminder_minutes: int | None, tag: str) -> dict[str, Any]:
    """The Graph ``event`` body of one user's entry for a session."""
    return with_tag(session_payload(event, session, reminder_minutes), tag)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def payload_hash(payload: dict[str, Any]) -> str:
    """Changes whenever anything the entry shows changes (hash of :func:`session_payload`)."""
    return _digest(payload)


def material_hash(event: Event, session: Session) -> str:
    """Changes only with time, place or link: what brings back an entry the user deleted."""
    start: datetime = session.start
    end: datetime = session.end
    return _digest([start.isoformat(), end.isoformat(), session.location or event.location,
                    session.online_url or event.online_url])

"""What an Outlook entry says: the Graph event body for one session, and its hashes.

Pure: the same session and settings always give the same payload, so a hash of it tells the
reconciler whether an entry needs rewriting at all. The words and dates are in the account's
:class:`~bridge.i18n.Language` (English when none is given), dates formatted by Babel in the event's zone.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bridge.graph.calendar import TAG_PROPERTY_ID
from bridge.i18n import Language, language
from bridge.lms.views import Event, Session
from bridge.sync.richtext import description_html
from bridge.sync.zones import graph_datetime


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


def subject(event: Event, session: Session, lang: Language | None = None) -> str:
    """The event title, with the session's label (in ``lang``) when the event has several.

    At most 255 UTF-16 units, the label kept: a long title is shortened with an ellipsis (and a
    label longer than half the room is shortened too), so the sessions' subjects stay distinct.
    """
    if len(event.sessions) <= 1:
        return shorten(event.title)
    words = (lang or language(None)).translations
    label = session.title or words.gettext("Session %(number)d") % {"number": session.position + 1}
    suffix = f" — {shorten(label, MAX_TEXT_UNITS // 2)}"
    return shorten(event.title, MAX_TEXT_UNITS - _units(suffix)) + suffix


def _when(event: Event, session: Session, lang: Language) -> str:
    """The session's time in the event's zone, e.g. ``Monday, 5 March 2030, 14:05 – 16:05 (Europe/Berlin)``."""
    zone, words = ZoneInfo(event.timezone), lang.translations
    start, end = session.start.astimezone(zone), session.end.astimezone(zone)
    # Translators: a Babel (CLDR) date pattern for the start (and an end on another day) of a session.
    day_pattern = words.gettext("EEEE, d MMMM y, HH:mm")
    # Translators: a Babel (CLDR) time pattern for the end of a session that ends on the day it starts.
    time_pattern = words.gettext("HH:mm")
    day = format_datetime(start, day_pattern, tzinfo=zone, locale=lang.locale)
    until = format_datetime(end, time_pattern if end.date() == start.date() else day_pattern, tzinfo=zone,
                            locale=lang.locale)
    return f"{day} – {until} ({event.timezone})"


def link_html(label: str, url: str) -> str:
    """A paragraph "label: url" with the url a link (both escaped)."""
    return f'<p>{escape(label)}: <a href="{escape(url, quote=True)}">{escape(url)}</a></p>'


# Graph takes at most 4 MB in one request (bridge.graph.wire.MAX_REQUEST_BYTES): an entry's
# description keeps to 3.5 MB as sent (JSON, non-ASCII escaped), leaving room for the rest of the entry.
MAX_DESCRIPTION_BYTES = 3_500_000


def _sent_bytes(text: str) -> int:
    return len(json.dumps(text))


def _description(description: str, lang: Language) -> str:
    """The description as a block of the body; one too large for Graph is cut (then sanitized, so
    no tag is left open) to :data:`MAX_DESCRIPTION_BYTES` and followed by a line saying so."""
    html = description_html(description)
    if _sent_bytes(html) <= MAX_DESCRIPTION_BYTES:
        return "<div>" + html + "</div>"
    text = description
    while _sent_bytes(html) > MAX_DESCRIPTION_BYTES:  # each cut is proportional, with a margin
        text = text[:int(len(text) * MAX_DESCRIPTION_BYTES / _sent_bytes(html) * 0.95)]
        html = description_html(text)
    note = lang.translations.gettext("The description was shortened to fit Outlook: the full text is in the LMS.")
    return f"<div>{html}</div><p><em>{escape(note)}</em></p>"


def body_html(event: Event, session: Session, lang: Language | None = None) -> str:
    """The entry's body in ``lang``: description (HTML, sanitized; shortened when too large for
    Graph, and saying so), time in the event's zone, join link, link back to the LMS (always kept)."""
    lang = lang or language(None)
    words = lang.translations
    parts = []
    if event.description:
        parts.append(_description(event.description, lang))
    when = words.gettext("When:")
    parts.append(f"<p>{escape(when)} {escape(_when(event, session, lang))}</p>")
    join = session.online_url or event.online_url
    if join:
        parts.append(link_html(words.gettext("Join"), join))
    if event.url:
        parts.append(link_html(words.gettext("Open in the LMS"), event.url))
    return "<html><body>" + "".join(parts) + "</body></html>"


def _place(event: Event, session: Session, lang: Language) -> dict[str, str]:
    name = session.location or event.location
    join = session.online_url or event.online_url
    if name:
        return {"displayName": shorten(name)}
    if join:
        return {"displayName": lang.translations.gettext("Online"), "locationUri": join}
    return {}


def session_payload(event: Event, session: Session, reminder_minutes: int | None,
                    lang: Language | None = None) -> dict[str, Any]:
    """The Graph ``event`` body for one session, the same for everyone who has it (no attendees:
    nobody is e-mailed), in ``lang`` (English by default); :func:`with_tag` adds the entry's own tag."""
    lang = lang or language(None)
    payload: dict[str, Any] = {
        "subject": subject(event, session, lang),
        "body": {"contentType": "html", "content": body_html(event, session, lang)},
        "start": graph_datetime(session.start, event.timezone),
        "end": graph_datetime(session.end, event.timezone),
        "showAs": "busy",
        "isReminderOn": reminder_minutes is not None,
        "location": _place(event, session, lang) or {"displayName": ""},
    }
    if reminder_minutes is not None:
        payload["reminderMinutesBeforeStart"] = reminder_minutes
    return payload


def with_tag(payload: dict[str, Any], tag: str) -> dict[str, Any]:
    return {**payload, "singleValueExtendedProperties": [{"id": TAG_PROPERTY_ID, "value": tag}]}


def entry_payload(event: Event, session: Session, reminder_minutes: int | None, tag: str,
                  lang: Language | None = None) -> dict[str, Any]:
    """The Graph ``event`` body of one user's entry for a session."""
    return with_tag(session_payload(event, session, reminder_minutes, lang), tag)


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

"""What a deadline's Outlook entry says: the Graph ``event`` body for one user's due time.

Pure, like :mod:`bridge.sync.payload` (whose tag, hashes, shortening and links it shares): the entry
is an instant at the user's due time (start = end: Graph and Outlook take a zero-length event, as an
iCalendar VEVENT whose DTEND equals DTSTART, RFC 5545 3.6.1), shown as ``free`` so it never blocks
the calendar or a scheduling assistant (Graph ``freeBusyStatus``: free, tentative, busy, oof,
workingElsewhere, unknown), its subject "Due: <title>" in the entry's language, a reminder the
account's deadline reminder before it (``isReminderOn`` false when none), and a body with the link
back to the LMS.
"""
from __future__ import annotations

from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bridge.i18n import Language, language
from bridge.lms.views import Event, Session
from bridge.sync.payload import MAX_TEXT_UNITS, link_html, shorten
from bridge.sync.richtext import description_html
from bridge.sync.zones import graph_datetime


def deadline_subject(event: Event, lang: Language | None = None) -> str:
    """"Due: <title>" in ``lang`` (English by default), at most 255 UTF-16 units (the title shortened)."""
    words = (lang or language(None)).translations
    return shorten(words.gettext("Due: %(title)s") % {"title": event.title}, MAX_TEXT_UNITS)


def deadline_body(event: Event, due: Session, lang: Language | None = None) -> str:
    """The entry's body in ``lang``: the description (HTML, sanitized), the due time in the deadline's
    zone, and the link back to the LMS."""
    lang = lang or language(None)
    words, zone = lang.translations, ZoneInfo(event.timezone)
    # Translators: a Babel (CLDR) date pattern for the start (and an end on another day) of a session.
    pattern = words.gettext("EEEE, d MMMM y, HH:mm")
    when = format_datetime(due.start.astimezone(zone), pattern, tzinfo=zone, locale=lang.locale)
    parts = ["<div>" + description_html(event.description) + "</div>"] if event.description else []
    label = words.gettext("Due:")
    parts.append(f"<p>{escape(label)} {escape(when)} ({escape(event.timezone)})</p>")
    if event.url:
        parts.append(link_html(words.gettext("Open in the LMS"), event.url))
    return "<html><body>" + "".join(parts) + "</body></html>"


def deadline_payload(event: Event, due: Session, reminder_minutes: int | None,
                     lang: Language | None = None) -> dict[str, Any]:
    """The Graph ``event`` body of a deadline's entry at ``due.start`` (the user's own due instant),
    free, in ``lang``; the same for every user with that due time (no attendees: nobody is e-mailed)."""
    lang = lang or language(None)
    at = graph_datetime(due.start, event.timezone)
    payload: dict[str, Any] = {
        "subject": deadline_subject(event, lang),
        "body": {"contentType": "html", "content": deadline_body(event, due, lang)},
        "start": at,
        "end": at,
        "showAs": "free",
        "isReminderOn": reminder_minutes is not None,
        "location": {"displayName": ""},
    }
    if reminder_minutes is not None:
        payload["reminderMinutesBeforeStart"] = reminder_minutes
    return payload

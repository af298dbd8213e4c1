"""Answer a fetch of a calendar feed: 304 when nothing changed, else the feed built afresh.

The entries are the rules' (:func:`bridge.lms.rules.entries_of`: the same sessions, deadlines and
window as in Outlook, whatever the user's address). SEQUENCE comes from a record per (account, user, session)
of the hash last shown and its sequence number, rather than from the event's version: an event's
version grows when any of its sessions changes and says nothing when a user is unassigned, while
the record grows exactly when what this user's entry shows changes, and remembers the entries
that must now be announced as cancelled.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.codes import FeedMode
from bridge.db import Database
from bridge.feeds import ical
from bridge.feeds import store as feed_store
from bridge.lms import rules, settings
from bridge.lms.views import DEADLINE_SESSION
from bridge.models import FeedItem
from bridge.sync import store
from bridge.sync.reconcile import Key

CALENDAR_NAME = "LMS sessions"


@dataclass(frozen=True)
class Answer:
    """A fetch's answer: the feed's ETag, and its bytes unless the client's copy is current (304)."""

    etag: str
    body: bytes | None


def fetch(db: Database, token: str, matches: Callable[[str], bool], now: datetime) -> Answer | None:
    """The feed a token opens, or None (404) for an unknown token or when the account's feeds are off.
    A deleted user's feed ends: the first fetch after the deletion removes the address (404 from then on).

    ``matches(etag)`` tells whether the client already holds that version (``If-None-Match``).
    An unchanged feed is recognised from its fingerprint without building anything.
    """
    for attempt in (1, 2):
        try:
            with db.session() as session:
                return _answer(session, token, matches, now)
        except IntegrityError:  # a concurrent fetch of the same feed recorded the same new item
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _answer(session: Session, token: str, matches: Callable[[str], bool], now: datetime) -> Answer | None:
    found = feed_store.holder(session, token)
    if found is not None and found.user_deleted:
        feed_store.revoke(session, found.account_id, found.user_id)
        return None
    if found is None or found.mode == FeedMode.OFF:
        return None
    fingerprint = feed_store.fingerprint(session, found)
    current = found.fingerprint == fingerprint and (found.valid_until is None or now < found.valid_until)
    if current and found.etag and matches(found.etag):
        return Answer(found.etag, None)
    view = store.user_view(session, found.account_id, found.user_id)
    active = view.user is not None and view.user.active
    wanted = rules.entries_of(view, now, found.deadlines).wanted if active else {}
    items = settle(session, found.account_id, found.user_id, wanted, found.reminder_minutes, now,
                   found.deadline_reminder)
    body = ical.calendar(items, CALENDAR_NAME)
    etag = hashlib.sha256(body).hexdigest()[:32]
    feed_store.remember(session, found, fingerprint, etag, min((i.end for i in items), default=None))
    return Answer(etag, None if matches(etag) else body)


def settle(session: Session, account_id: str, user_id: str, wanted: dict[Key, rules.Wanted],
           reminder_minutes: int | None, now: datetime,
           deadline_reminder: int | None = settings.DEADLINE_REMINDER) -> list[ical.Item]:
    """Bring the user's feed record up to the wanted entries and return the feed's items, by start
    (a session's with ``reminder_minutes``, a deadline's with ``deadline_reminder``).

    A new entry starts at SEQUENCE 0; one whose content changed (or that comes back) gets the next
    number and a new LAST-MODIFIED; one no longer wanted but still ahead turns CANCELLED (once) and
    is listed until its end; records of ended entries are dropped.
    """
    rows = {(r.event_id, r.session_id): r for r in session.scalars(select(FeedItem).where(
        FeedItem.account_id == account_id, FeedItem.user_id == user_id))}
    items: list[ical.Item] = []
    for key, entry in wanted.items():
        reminder = deadline_reminder if key[1] == DEADLINE_SESSION else reminder_minutes
        content = ical.content_hash(entry.event, entry.session, reminder)
        row = rows.pop(key, None)
        if row is None:
            row = FeedItem(account_id=account_id, user_id=user_id, event_id=key[0], session_id=key[1],
                           sequence=0, changed_at=now)
            session.add(row)
        elif row.payload_hash != content or row.cancelled:
            row.sequence, row.changed_at = row.sequence + 1, now
        row.payload_hash, row.cancelled = content, False
        row.summary = ical.summary(entry.event, entry.session)[:1100]
        row.timezone, row.starts_at, row.ends_at = entry.event.timezone, entry.session.start, entry.session.end
        items.append(ical.item(entry.event, entry.session, reminder, uid=_uid(account_id, user_id, key),
                               sequence=row.sequence, changed_at=row.changed_at))
    for key, row in rows.items():
        if row.ends_at <= now:
            session.delete(row)
            continue
        if not row.cancelled:
            row.cancelled, row.sequence, row.changed_at = True, row.sequence + 1, now
        items.append(ical.Item(uid=_uid(account_id, user_id, key), sequence=row.sequence, changed_at=row.changed_at,
                               start=row.starts_at, end=row.ends_at, timezone=row.timezone, summary=row.summary,
                               cancelled=True, transparent=key[1] == DEADLINE_SESSION))
    return sorted(items, key=lambda i: (i.start, i.uid))


def _uid(account_id: str, user_id: str, key: Key) -> str:
    return ical.uid(account_id, user_id, *key)

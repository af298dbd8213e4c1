"""The mass-removal guard: when the LMS's changes would remove more than a share (default half) and more
than a number (default 100) of an account's future entries at once, the removals wait for the owner's
confirmation on the page; creations and updates go on meanwhile.

What would be removed is counted in SQL from the records and the LMS rows, so the count covers the
whole account, not only the users of one pass: future entries whose user was deleted or deactivated,
whose event was deleted or cancelled, whose session is gone, or whose enrollment ended or moved;
deadlines' entries whose deadline was deleted, no longer applies to the user, or is done (when the
account removes done ones).
A hold lifts by itself when the LMS comes back (the count falls under the threshold), and after
the owner confirms it (the confirmation covers the removals counted then, and the rest of that
wave: it ends when the count falls under the threshold again).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, case, delete, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from bridge.codes import EntryState, RemovalCause, WhenDone
from bridge.db import Upsert
from bridge.lms.views import DEADLINE_SESSION
from bridge.models import (
    DeadlineSetting,
    Entry,
    LmsDeadline,
    LmsEnrollment,
    LmsEvent,
    LmsLearnerDeadline,
    LmsSession,
    LmsUser,
    RemovalHold,
)
from bridge.queue import dirty_keys

CAUSES = (  # (cause, English words for the command line): the first that applies to an entry is its cause
    (RemovalCause.EVENTS_DELETED, "deleted events"),
    (RemovalCause.EVENTS_CANCELLED, "cancelled events"),
    (RemovalCause.SESSIONS_REMOVED, "removed sessions"),
    (RemovalCause.USERS_GONE, "users deleted or deactivated"),
    (RemovalCause.ENROLLMENTS_ENDED, "enrollments ended or moved"),
    (RemovalCause.DEADLINES_DELETED, "deleted deadlines"),
    (RemovalCause.DEADLINES_ENDED, "deadlines no longer applying"),
    (RemovalCause.DEADLINES_DONE, "deadlines done"),
)
_HOLD = Upsert(RemovalHold)  # a hold is recorded once; passes of the account at once all find it


@dataclass(frozen=True)
class Guard:
    """The threshold: more than ``percent`` % and more than ``minimum`` of the future entries."""

    percent: int = 50
    minimum: int = 100

    def trips(self, removals: int, future: int) -> bool:
        return removals > self.minimum and removals * 100 > self.percent * future


@dataclass(frozen=True)
class Count:
    removals: int
    future: int
    users: int  # distinct users among the removals
    by_cause: dict[str, list[int]]  # cause → [entries, distinct things: events, sessions, users or enrollments]


def reason(hold: RemovalHold) -> str:
    """The hold's causes in English, for the command line, e.g. "240 of 12 deleted events; 30 of 3
    cancelled events (noticed at 2026-11-30 14:02 UTC)" (the page words them in its own language)."""
    parts = [f"{entries} of {things} {words}" for cause, words in CAUSES
             for entries, things in [hold.causes.get(cause, (0, 0))] if entries]
    return f"{'; '.join(parts) or 'entries no longer wanted'} (noticed at {hold.held_at:%Y-%m-%d %H:%M} UTC)"


def _entries(account_id: str, now: datetime) -> Subquery:
    """The account's future entries (not deleted in Outlook): each one's removal cause ("" when the
    LMS still wants it), the thing it is counted under (the distinct events deleted or cancelled,
    sessions, users or enrollments concerned), and its user."""
    event_gone = or_(LmsEvent.id.is_(None), LmsEvent.deleted.is_(True))
    cancelled = LmsEvent.cancelled.is_(True)
    session_gone = LmsSession.id.is_(None)
    user_gone = or_(LmsUser.id.is_(None), LmsUser.deleted.is_(True), LmsUser.active.is_(False))
    enrollment_ended = and_(func.coalesce(LmsEvent.organizer_id, "") != Entry.user_id, or_(
        LmsEnrollment.user_id.is_(None), LmsEnrollment.deleted.is_(True),
        func.coalesce(LmsEnrollment.session_id, "") != Entry.session_id))
    deadline = Entry.session_id == DEADLINE_SESSION  # a deadline's entry: the deadline's causes only
    deadline_gone = or_(LmsDeadline.id.is_(None), LmsDeadline.deleted.is_(True))
    deadline_ended = or_(LmsLearnerDeadline.user_id.is_(None), LmsLearnerDeadline.deleted.is_(True))
    deadline_done = and_(LmsLearnerDeadline.done.is_(True),
                         func.coalesce(DeadlineSetting.when_done, WhenDone.REMOVE.value) == WhenDone.REMOVE.value)
    whens = ((and_(deadline, deadline_gone), RemovalCause.DEADLINES_DELETED),
             (and_(deadline, user_gone), RemovalCause.USERS_GONE),
             (and_(deadline, deadline_ended), RemovalCause.DEADLINES_ENDED),
             (and_(deadline, deadline_done), RemovalCause.DEADLINES_DONE), (deadline, ""),
             (event_gone, RemovalCause.EVENTS_DELETED), (cancelled, RemovalCause.EVENTS_CANCELLED),
             (session_gone, RemovalCause.SESSIONS_REMOVED), (user_gone, RemovalCause.USERS_GONE),
             (enrollment_ended, RemovalCause.ENROLLMENTS_ENDED))
    cause = case(*((when, literal(code, String)) for when, code in whens), else_="").label("cause")
    thing = case((and_(deadline, deadline_gone), Entry.event_id), (and_(deadline, user_gone), Entry.user_id),
                 (deadline, Entry.event_id + "\x1f" + Entry.user_id),
                 (or_(event_gone, cancelled), Entry.event_id),
                 (session_gone, Entry.event_id + "\x1f" + Entry.session_id), (user_gone, Entry.user_id),
                 else_=Entry.event_id + "\x1f" + Entry.user_id).label("thing")
    entries = select(cause, thing, Entry.user_id).select_from(Entry).outerjoin(
        LmsEvent, and_(LmsEvent.account_id == Entry.account_id, LmsEvent.id == Entry.event_id, ~deadline)).outerjoin(
        LmsSession, and_(LmsSession.account_id == Entry.account_id, LmsSession.event_id == Entry.event_id,
                         LmsSession.id == Entry.session_id)).outerjoin(
        LmsUser, and_(LmsUser.account_id == Entry.account_id, LmsUser.id == Entry.user_id)).outerjoin(
        LmsEnrollment, and_(LmsEnrollment.account_id == Entry.account_id, LmsEnrollment.event_id == Entry.event_id,
                            LmsEnrollment.user_id == Entry.user_id, ~deadline)).outerjoin(
        LmsDeadline, and_(LmsDeadline.account_id == Entry.account_id, LmsDeadline.id == Entry.event_id,
                          deadline)).outerjoin(
        LmsLearnerDeadline, and_(LmsLearnerDeadline.account_id == Entry.account_id,
                                 LmsLearnerDeadline.deadline_id == Entry.event_id,
                                 LmsLearnerDeadline.user_id == Entry.user_id, deadline)).outerjoin(
        DeadlineSetting, DeadlineSetting.account_id == Entry.account_id).where(
        Entry.account_id == account_id, Entry.ends_at > now, Entry.state != EntryState.DELETED_IN_OUTLOOK).subquery()
    return entries


def _by_cause(session: Session, entries: Subquery) -> tuple[int, int, dict[str, list[int]]]:
    """(removals, future entries, cause → [entries, distinct things]) of :func:`_entries` (one statement)."""
    rows = select(entries.c.cause, func.count(), func.count(entries.c.thing.distinct())).group_by(entries.c.cause)
    by_cause = {str(c): [int(n), int(things)] for c, n, things in session.execute(rows)}
    future = sum(n for n, _ in by_cause.values())
    by_cause.pop("", None)
    return sum(n for n, _ in by_cause.values()), future, by_cause


def _users(session: Session, entries: Subquery) -> int:
    """Distinct users among the removals of :func:`_entries` (one statement)."""
    return int(session.scalar(select(func.count(entries.c.user_id.distinct())).where(entries.c.cause != "")) or 0)


def removals_allowed(session: Session, guard: Guard, account_id: str, now: datetime) -> bool:
    """Whether a pass may remove entries now; records (or lifts) the account's hold. Safe when
    passes of the same account run at once (an upsert, not a read-then-insert)."""
    entries = _entries(account_id, now)
    removals, future, by_cause = _by_cause(session, entries)
    if not guard.trips(removals, future):  # the distinct users are counted only for a hold
        session.execute(delete(RemovalHold).where(RemovalHold.account_id == account_id))
        return True
    counted = Count(removals, future, _users(session, entries), by_cause)
    session.execute(_HOLD.statement(session), {"account_id": account_id, "removals": counted.removals,
                                               "future_entries": counted.future, "users": counted.users,
                                               "causes": counted.by_cause, "held_at": now})
    hold = session.get(RemovalHold, account_id, populate_existing=True)
    assert hold is not None
    if hold.confirmed_at is not None:
        return True
    hold.removals, hold.future_entries = counted.removals, counted.future
    hold.users, hold.causes = counted.users, counted.by_cause
    return False


def current(session: Session, account_id: str) -> RemovalHold | None:
    """The account's hold waiting for confirmation, if any."""
    hold = session.get(RemovalHold, account_id)
    return hold if hold is not None and hold.confirmed_at is None else None


def confirm(session: Session, account_id: str, user_id: str, now: datetime) -> RemovalHold | None:
    """The owner confirms the held removals: they go ahead; returns the hold confirmed (its
    ``removals`` entries of ``users`` users), None when none was waiting."""
    hold = current(session, account_id)
    if hold is None:
        return None
    hold.confirmed_by, hold.confirmed_at = user_id, now
    users = session.scalars(select(Entry.user_id).distinct().where(Entry.account_id == account_id,
                                                                   Entry.ends_at > now))
    dirty_keys.mark_dirty(session, account_id, list(users), now, lane=dirty_keys.Lane.BULK)
    return hold

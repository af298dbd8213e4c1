"""Reads and writes the sync needs: the account's context, a user's LMS view, entries made.

The reconciler and worker go through these functions only, so the SQL of the sync lives here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bridge import lms
from bridge.models import (
    Account,
    Connection,
    DirectoryEntry,
    Entry,
    LmsEnrollment,
    LmsEvent,
    LmsSession,
    LmsUser,
    UserState,
    utcnow,
)
from bridge.reconcile import Desired, Key, Made

FOUND_TTL = timedelta(hours=24)
NOT_FOUND_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class AccountContext:
    account_id: str
    state: str
    tenant_id: str | None
    reminder_minutes: int | None
    verified_domains: tuple[str, ...] | None


def account_context(session: Session, account_id: str) -> AccountContext | None:
    row = session.execute(
        select(Account.reminder_minutes, Connection.state, Connection.tenant_id, Connection.verified_domains)
        .join(Connection, Connection.account_id == Account.id)
        .where(Account.id == account_id)
    ).first()
    if row is None:
        return None
    reminder, state, tenant, domains = row
    return AccountContext(account_id, state, tenant, reminder, tuple(domains) if domains is not None else None)


def _event(row: LmsEvent, sessions: list[LmsSession]) -> lms.Event:
    return lms.Event(
        id=row.id, title=row.title or "", timezone=row.timezone or "UTC", organizer_id=row.organizer_id,
        description=row.description, url=row.url, location=row.location, online_url=row.online_url,
        cancelled=row.cancelled,
        sessions=tuple(
            lms.Session(id=s.id, event_id=s.event_id, position=s.position, start=s.start, end=s.end,
                        title=s.title, location=s.location, online_url=s.online_url)
            for s in sorted(sessions, key=lambda s: (s.position, s.start))
        ),
    )


def user_view(session: Session, account_id: str, user_id: str) -> lms.UserView:
    """The user, every live event they organize or are enrolled in, and their enrollments."""
    user_row = session.get(LmsUser, (account_id, user_id))
    user = None
    if user_row is not None and not user_row.deleted:
        user = lms.User(id=user_id, email=user_row.email, active=user_row.active, name=user_row.name)
    enrollments = session.scalars(
        select(LmsEnrollment).where(LmsEnrollment.account_id == account_id, LmsEnrollment.user_id == user_id,
                                    LmsEnrollment.deleted.is_(False))
    ).all()
    enrolled_ids = {e.event_id for e in enrollments}
    events = session.scalars(
        select(LmsEvent).where(
            LmsEvent.account_id == account_id,
            LmsEvent.deleted.is_(False),
            (LmsEvent.organizer_id == user_id) | LmsEvent.id.in_(enrolled_ids),
        )
    ).all()
    sessions: dict[str, list[LmsSession]] = {e.id: [] for e in events}
    if events:
        for s in session.scalars(select(LmsSession).where(LmsSession.account_id == account_id,
                                                          LmsSession.event_id.in_(list(sessions)))):
            sessions[s.event_id].append(s)
    return lms.UserView(
        user_id=user_id, user=user,
        events={e.id: _event(e, sessions[e.id]) for e in events},
        enrollments=tuple(lms.Enrollment(e.event_id, e.session_id) for e in enrollments),
    )


def made_entries(session: Session, account_id: str, user_id: str) -> dict[Key, Made]:
    rows = session.scalars(select(Entry).where(Entry.account_id == account_id, Entry.user_id == user_id))
    return {(r.event_id, r.session_id): _made(r) for r in rows}


def _made(row: Entry) -> Made:
    return Made(key=(row.event_id, row.session_id), mailbox_id=row.mailbox_id, graph_event_id=row.graph_event_id,
                transaction_id=row.transaction_id, state=row.state, payload_hash=row.payload_hash,
                material_hash=row.material_hash, ends_at=row.ends_at, tag=row.tag)


def write_entry(session: Session, account_id: str, user_id: str, tenant_id: str, mailbox_id: str,
                desired: Desired, *, state: str, transaction_id: str, graph_event_id: str | None,
                payload_hash: str | None) -> None:
    """Insert or replace the record of one entry."""
    session.merge(Entry(
        account_id=account_id, user_id=user_id, event_id=desired.key[0], session_id=desired.key[1],
        tenant_id=tenant_id, mailbox_id=mailbox_id, graph_event_id=graph_event_id, transaction_id=transaction_id,
        state=state, payload_hash=payload_hash, material_hash=desired.material_hash, starts_at=desired.starts_at,
        ends_at=desired.ends_at, tag=desired.tag, updated_at=utcnow(),
    ))


def mark_entry(session: Session, account_id: str, user_id: str, key: Key, **values: object) -> None:
    row = session.get(Entry, (account_id, user_id, *key))
    if row is not None:
        for name, value in values.items():
            setattr(row, name, value)


def drop_entry(session: Session, account_id: str, user_id: str, key: Key) -> None:
    session.execute(delete(Entry).where(Entry.account_id == account_id, Entry.user_id == user_id,
                                        Entry.event_id == key[0], Entry.session_id == key[1]))


def set_user_state(session: Session, account_id: str, user_id: str, state: str,
                   reason: str | None = None, detail: str | None = None) -> None:
    """Record the user's sync state; ``changed_at`` moves only when state or reason change."""
    row = session.get(UserState, (account_id, user_id))
    entries = session.execute(
        select(func.count()).select_from(Entry).where(Entry.account_id == account_id, Entry.user_id == user_id,
                                                      Entry.state == "active")
    ).scalar_one()
    if row is None:
        session.add(UserState(account_id=account_id, user_id=user_id, state=state, reason=reason,
                              detail=detail, entries=entries, changed_at=utcnow()))
        return
    if (row.state, row.reason) != (state, reason):
        row.changed_at = utcnow()
    row.state, row.reason, row.detail, row.entries = state, reason, detail, entries


def cached_mailbox(session: Session, account_id: str, tenant_id: str, address: str,
                   now: datetime) -> tuple[bool, str | None]:
    """(hit, Graph user id or ``None`` for a cached miss)."""
    row = session.get(DirectoryEntry, (account_id, tenant_id, address.lower()))
    if row is None or row.expires_at <= now:
        return False, None
    return True, row.graph_user_id


def cache_mailbox(session: Session, account_id: str, tenant_id: str, address: str,
                  graph_user_id: str | None, now: datetime) -> None:
    ttl = FOUND_TTL if graph_user_id else NOT_FOUND_TTL
    session.merge(DirectoryEntry(account_id=account_id, tenant_id=tenant_id, address=address.lower(),
                                 graph_user_id=graph_user_id, expires_at=now + ttl))

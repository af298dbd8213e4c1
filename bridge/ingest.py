"""Apply one validated hook delivery to the LMS replica, in the caller's transaction.

Each object carries the LMS's ``version``; a delivery that is not newer than what is stored is
acknowledged and ignored, so repeated and out-of-order deliveries end in the same state. Every
change marks the users it may concern dirty in the same transaction, so no change is lost.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge import queue
from bridge.models import Account, Delivery, Entry, LmsEnrollment, LmsEvent, LmsSession, LmsUser

Data = Mapping[str, Any]


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"


def ensure_account(session: Session, account_id: str) -> None:
    """Create the account row on first sight (a hook or a launch); no registration step."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Account).values(id=account_id, reminder_minutes=15).on_conflict_do_nothing())


DELIVERY_MEMORY = timedelta(days=30)


def forget_old_deliveries(session: Session, now: datetime) -> int:
    """Drop delivery ids older than 30 days: a host retries for far less, so the table stays small."""
    result = session.execute(delete(Delivery).where(Delivery.received_at < now - DELIVERY_MEMORY))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def apply_delivery(session: Session, delivery: Data) -> Outcome:
    """Record the delivery id, apply the change if newer, and mark the users it concerns."""
    account_id = delivery["account"]
    ensure_account(session, account_id)
    if session.get(Delivery, (account_id, delivery["id"])) is not None:
        return Outcome.DUPLICATE
    session.add(Delivery(account_id=account_id, id=delivery["id"]))
    session.flush()
    return _APPLY[delivery["topic"]](session, account_id, delivery["data"])


def _newer(row: Any, data: Data) -> bool:
    return row is None or data["version"] > row.version


def _upsert_user(session: Session, account_id: str, data: Data) -> Outcome:
    row = session.get(LmsUser, (account_id, data["id"]))
    if not _newer(row, data):
        return Outcome.STALE
    fields = {k: data.get(k) for k in ("email", "name", "role", "timezone")}
    session.merge(
        LmsUser(account_id=account_id, id=data["id"], version=data["version"], deleted=False,
                active=bool(data["active"]), **fields)
    )
    queue.mark_dirty(session, account_id, [data["id"]])
    return Outcome.APPLIED


def _delete_user(session: Session, account_id: str, data: Data) -> Outcome:
    row = session.get(LmsUser, (account_id, data["id"]))
    if not _newer(row, data):
        return Outcome.STALE
    session.merge(LmsUser(account_id=account_id, id=data["id"], version=data["version"], deleted=True,
                          active=False, email=None, name=None, role=None, timezone=None))
    queue.mark_dirty(session, account_id, [data["id"]])
    return Outcome.APPLIED


def event_audience(session: Session, account_id: str, event_id: str) -> set[str]:
    """Everyone an event change may concern: organizer, enrolled users, holders of its entries."""
    organizer = select(LmsEvent.organizer_id).where(LmsEvent.account_id == account_id, LmsEvent.id == event_id)
    enrolled = select(LmsEnrollment.user_id).where(
        LmsEnrollment.account_id == account_id, LmsEnrollment.event_id == event_id
    )
    holders = select(Entry.user_id).where(Entry.account_id == account_id, Entry.event_id == event_id)
    users: set[str] = set()
    for query in (organizer, enrolled, holders):
        users.update(u for (u,) in session.execute(query) if u)
    return users


def _replace_event(session: Session, account_id: str, data: Data, deleted: bool) -> Outcome:
    row = session.get(LmsEvent, (account_id, data["id"]))
    if not _newer(row, data):
        return Outcome.STALE
    concerned = event_audience(session, account_id, data["id"])
    session.execute(
        delete(LmsSession).where(LmsSession.account_id == account_id, LmsSession.event_id == data["id"])
    )
    if deleted:
        event = LmsEvent(account_id=account_id, id=data["id"], version=data["version"], deleted=True,
                         cancelled=True)
    else:
        event = LmsEvent(
            account_id=account_id, id=data["id"], version=data["version"], deleted=False,
            cancelled=bool(data["cancelled"]),
            **{k: data.get(k) for k in ("title", "description", "organizer_id", "url", "location",
                                         "online_url", "timezone")},
        )
        session.add_all(
            LmsSession(account_id=account_id, event_id=data["id"], position=position,
                       **{k: s.get(k) for k in ("id", "title", "start", "end", "location", "online_url")})
            for position, s in enumerate(data["sessions"])
        )
    session.merge(event)
    session.flush()
    concerned |= event_audience(session, account_id, data["id"])
    queue.mark_dirty(session, account_id, concerned)
    return Outcome.APPLIED


def _enrollment(session: Session, account_id: str, data: Data, deleted: bool) -> Outcome:
    row = session.get(LmsEnrollment, (account_id, data["event_id"], data["user_id"]))
    if not _newer(row, data):
        return Outcome.STALE
    session.merge(LmsEnrollment(
        account_id=account_id, event_id=data["event_id"], user_id=data["user_id"], version=data["version"],
        deleted=deleted, session_id=None if deleted else data.get("session_id"),
    ))
    queue.mark_dirty(session, account_id, [data["user_id"]])
    return Outcome.APPLIED


_APPLY: dict[str, Callable[[Session, str, Data], Outcome]] = {
    "user.upserted": _upsert_user,
    "user.deleted": _delete_user,
    "event.upserted": lambda s, a, d: _replace_event(s, a, d, deleted=False),
    "event.deleted": lambda s, a, d: _replace_event(s, a, d, deleted=True),
    "enrollment.upserted": lambda s, a, d: _enrollment(s, a, d, deleted=False),
    "enrollment.deleted": lambda s, a, d: _enrollment(s, a, d, deleted=True),
}
TOPICS = tuple(_APPLY)

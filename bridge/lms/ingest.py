"""Apply one validated hook delivery to the LMS replica, in the caller's transaction.

Each object carries the LMS's ``version``; a delivery that is not newer than what is stored is
acknowledged and ignored, so repeated and out-of-order deliveries end in the same state. Every
change marks the users it may concern dirty in the same transaction, so no change is lost.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, delete, exists, select
from sqlalchemy.orm import Session

from bridge.codes import HookOutcome
from bridge.db import Upsert
from bridge.lms.views import DEADLINE_SESSION
from bridge.models import (
    Account,
    Delivery,
    Entry,
    LmsDeadline,
    LmsEnrollment,
    LmsEvent,
    LmsLearnerDeadline,
    LmsSession,
    LmsUser,
    utcnow,
)
from bridge.queue import dirty_keys

Data = Mapping[str, Any]


def ensure_account(session: Session, account_id: str) -> None:
    """Create the account row on first sight (a hook or a launch), with the default settings; no
    registration step."""
    session.execute(_ACCOUNT.statement(session), {"id": account_id})


def _new_delivery(deliveries: Table) -> Select[Any]:
    """The delivery's row, if its account is known (a parameter for each column)."""
    account = bindparam("account_id", type_=deliveries.c.account_id.type)
    return select(account.label("account_id"), bindparam("id", type_=deliveries.c.id.type).label("id"),
                  bindparam("received_at", type_=deliveries.c.received_at.type).label("received_at"),
                  ).where(exists().where(_table(Account).c.id == account))


def _older(table: Table, new: Any) -> Any:
    return table.c.version < new.version


def _versioned(model: Any, *keys: str) -> Upsert:
    """A versioned row: inserted, or updated only where the stored version is older; returns the
    version when written."""
    table = _table(model)
    return Upsert(table, conflict=keys, update=tuple(c.name for c in table.columns if c.name not in keys),
                  where=_older, returning=("version",))


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


# The statements of the hook path (bridge.db.Upsert builds each once per dialect).
_ACCOUNT = Upsert(Account)
_DELIVERY = Upsert(Delivery, rows=_new_delivery, returning=("id",))  # recorded if the account is known and the id new
_VERSIONED = {"user": _versioned(LmsUser, "account_id", "id"),
              "enrollment": _versioned(LmsEnrollment, "account_id", "event_id", "user_id"),
              "deadline": _versioned(LmsDeadline, "account_id", "id"),
              "learner_deadline": _versioned(LmsLearnerDeadline, "account_id", "deadline_id", "user_id")}


def _store_if_newer(session: Session, name: str, row: dict[str, Any]) -> bool:
    """Write ``row`` unless the stored version is as new; whether it was written."""
    return session.execute(_VERSIONED[name].statement(session), row).first() is not None


DELIVERY_MEMORY = timedelta(days=30)


def forget_old_deliveries(session: Session, now: datetime) -> int:
    """Drop delivery ids older than 30 days: a host retries for far less, so the table stays small."""
    result = session.execute(delete(Delivery).where(Delivery.received_at < now - DELIVERY_MEMORY))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def apply_delivery(session: Session, delivery: Data) -> HookOutcome:
    """Record the delivery id, apply the change if newer, and mark the users it concerns."""
    account_id = delivery["account"]
    record = {"account_id": account_id, "id": delivery["id"], "received_at": utcnow()}
    if session.execute(_DELIVERY.statement(session), record).first() is None:
        ensure_account(session, account_id)  # the account's first delivery, or a duplicate
        if session.execute(_DELIVERY.statement(session), record).first() is None:
            return HookOutcome.DUPLICATE
    return _APPLY[delivery["topic"]](session, account_id, delivery["data"])


def _newer(row: Any, data: Data) -> bool:
    return row is None or data["version"] > row.version


def _upsert_user(session: Session, account_id: str, data: Data) -> HookOutcome:
    fields = {k: data.get(k) for k in ("email", "name", "role", "timezone")}
    if not _store_if_newer(session, "user", dict(account_id=account_id, id=data["id"], version=data["version"],
                                                 deleted=False, active=bool(data["active"]), **fields)):
        return HookOutcome.STALE
    dirty_keys.mark_dirty(session, account_id, [data["id"]])
    return HookOutcome.APPLIED


def _delete_user(session: Session, account_id: str, data: Data) -> HookOutcome:
    if not _store_if_newer(session, "user", dict(account_id=account_id, id=data["id"], version=data["version"],
                                                 deleted=True, active=False, email=None, name=None, role=None,
                                                 timezone=None)):
        return HookOutcome.STALE
    dirty_keys.mark_dirty(session, account_id, [data["id"]])
    return HookOutcome.APPLIED


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


def _replace_event(session: Session, account_id: str, data: Data, deleted: bool) -> HookOutcome:
    row = session.get(LmsEvent, (account_id, data["id"]))
    if not _newer(row, data):
        return HookOutcome.STALE
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
    dirty_keys.mark_dirty(session, account_id, concerned)
    return HookOutcome.APPLIED


def _enrollment(session: Session, account_id: str, data: Data, deleted: bool) -> HookOutcome:
    if not _store_if_newer(session, "enrollment", dict(
            account_id=account_id, event_id=data["event_id"], user_id=data["user_id"], version=data["version"],
            deleted=deleted, session_id=None if deleted else data.get("session_id"))):
        return HookOutcome.STALE
    dirty_keys.mark_dirty(session, account_id, [data["user_id"]])
    return HookOutcome.APPLIED


def deadline_audience(session: Session, account_id: str, deadline_id: str) -> set[str]:
    """Everyone a deadline change may concern: the users it applies to (or did), holders of its entries."""
    stated = select(LmsLearnerDeadline.user_id).where(LmsLearnerDeadline.account_id == account_id,
                                                      LmsLearnerDeadline.deadline_id == deadline_id)
    holders = select(Entry.user_id).where(Entry.account_id == account_id, Entry.event_id == deadline_id,
                                          Entry.session_id == DEADLINE_SESSION)
    return {u for query in (stated, holders) for (u,) in session.execute(query)}


def _deadline(session: Session, account_id: str, data: Data, deleted: bool) -> HookOutcome:
    fields = {k: None if deleted else data.get(k) for k in ("title", "description", "url", "due", "timezone")}
    if not _store_if_newer(session, "deadline", dict(account_id=account_id, id=data["id"], version=data["version"],
                                                     deleted=deleted, **fields)):
        return HookOutcome.STALE
    dirty_keys.mark_dirty(session, account_id, deadline_audience(session, account_id, data["id"]))
    return HookOutcome.APPLIED


def _learner_deadline(session: Session, account_id: str, data: Data, deleted: bool) -> HookOutcome:
    if not _store_if_newer(session, "learner_deadline", dict(
            account_id=account_id, deadline_id=data["deadline_id"], user_id=data["user_id"],
            version=data["version"], deleted=deleted, due=None if deleted else data["due"],
            done=False if deleted else bool(data["done"]))):
        return HookOutcome.STALE
    dirty_keys.mark_dirty(session, account_id, [data["user_id"]])
    return HookOutcome.APPLIED


_APPLY: dict[str, Callable[[Session, str, Data], HookOutcome]] = {
    "user.upserted": _upsert_user,
    "user.deleted": _delete_user,
    "event.upserted": lambda s, a, d: _replace_event(s, a, d, deleted=False),
    "event.deleted": lambda s, a, d: _replace_event(s, a, d, deleted=True),
    "enrollment.upserted": lambda s, a, d: _enrollment(s, a, d, deleted=False),
    "enrollment.deleted": lambda s, a, d: _enrollment(s, a, d, deleted=True),
    "deadline.upserted": lambda s, a, d: _deadline(s, a, d, deleted=False),
    "deadline.deleted": lambda s, a, d: _deadline(s, a, d, deleted=True),
    "learner_deadline.upserted": lambda s, a, d: _learner_deadline(s, a, d, deleted=False),
    "learner_deadline.deleted": lambda s, a, d: _learner_deadline(s, a, d, deleted=True),
}
TOPICS = tuple(_APPLY)

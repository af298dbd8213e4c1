"""The dirty-key work queue: every statement that touches ``dirty_keys`` lives here.

A change marks users dirty in its own transaction (the outbox); workers claim ready keys with one
statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and hold them by a lease, so several worker
processes never work one key at once and a dead worker's keys come back when its lease ends.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, case, delete, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bridge.codes import WORKING_STATES
from bridge.db import Upsert
from bridge.models import Connection, DirtyKey, UTCDateTime, utcnow
from bridge.queue import wakeup

LEASE = timedelta(seconds=10)  # kept alive by the worker's heartbeat (every 2 s): a dead worker's keys return fast


@dataclass(frozen=True)
class Claim:
    """A key a worker holds: the generation tells whether it was marked again meanwhile."""

    account_id: str
    user_id: str
    generation: int
    attempts: int
    marked_at: datetime | None = None  # when it was marked, if this is its first attempt since


def mark_dirty(session: Session, account_id: str, user_ids: Iterable[str], now: datetime | None = None) -> int:
    """Mark users of one account for reconcile; a key already queued is bumped and made due now."""
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return 0
    now = now or utcnow()
    session.execute(_MARK.statement(session), [
        {"account_id": account_id, "user_id": u, "generation": 1, "due_at": now, "attempts": 0} for u in ids])
    wakeup.notify(session)
    return len(ids)


def _bumped(keys: Table, _new: object) -> dict[str, object]:
    return {"generation": keys.c.generation + 1}


# A key queued again is bumped (its pass sees it was marked meanwhile), due now, its attempts reset.
_MARK = Upsert(DirtyKey, conflict=("account_id", "user_id"), update=("due_at", "attempts"), also=_bumped)


def claim(session: Session, worker: str, limit: int, now: datetime | None = None,
          lease: timedelta = LEASE) -> list[Claim]:
    """Take up to ``limit`` ready keys of connected accounts, oldest first, under a lease."""
    now = now or utcnow()
    ready = (
        select(DirtyKey.account_id, DirtyKey.user_id)
        .join(Connection, Connection.account_id == DirtyKey.account_id)
        .where(
            Connection.state.in_(WORKING_STATES),
            DirtyKey.due_at <= now,
            or_(DirtyKey.claimed_until.is_(None), DirtyKey.claimed_until < now),
        )
        .order_by(DirtyKey.due_at)
        .limit(limit)
        .with_for_update(of=DirtyKey, skip_locked=True)
    )
    statement = (
        update(DirtyKey)
        .where(tuple_(DirtyKey.account_id, DirtyKey.user_id).in_(ready))
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(DirtyKey.account_id, DirtyKey.user_id, DirtyKey.generation, DirtyKey.attempts, DirtyKey.due_at)
        .execution_options(synchronize_session=False)
    )
    return [Claim(*row[:4], marked_at=row.due_at if row.attempts == 0 else None)
            for row in session.execute(statement).all()]


def extend(session: Session, worker: str, lease: timedelta = LEASE, now: datetime | None = None) -> None:
    """Renew the lease on every key this worker holds (its heartbeat).

    A key locked by another transaction right now (a hook marking it again) is skipped rather than
    waited for: the next beat renews it, and waiting could deadlock with a hook marking many keys.
    """
    now = now or utcnow()
    mine = select(DirtyKey.account_id, DirtyKey.user_id).where(DirtyKey.claimed_by == worker).with_for_update(
        skip_locked=True)
    session.execute(
        update(DirtyKey).where(tuple_(DirtyKey.account_id, DirtyKey.user_id).in_(mine))
        .values(claimed_until=now + lease).execution_options(synchronize_session=False)
    )


def _mine(claim_: Claim, worker: str) -> list[ColumnElement[bool]]:
    return [
        DirtyKey.account_id == claim_.account_id,
        DirtyKey.user_id == claim_.user_id,
        DirtyKey.claimed_by == worker,
    ]


def complete(session: Session, claim_: Claim, worker: str) -> None:
    """Drop a finished key, unless it was marked again while it was worked: then release it."""
    done = session.execute(
        delete(DirtyKey).where(*_mine(claim_, worker), DirtyKey.generation == claim_.generation)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        release(session, claim_, worker)


def complete_all(session: Session, claims: list[Claim], worker: str) -> None:
    """:func:`complete` for many keys with one statement (keys marked again meanwhile are released)."""
    if not claims:
        return
    finished = [(c.account_id, c.user_id, c.generation) for c in claims]
    session.execute(delete(DirtyKey).where(
        tuple_(DirtyKey.account_id, DirtyKey.user_id, DirtyKey.generation).in_(finished),
        DirtyKey.claimed_by == worker))
    session.execute(update(DirtyKey).where(
        tuple_(DirtyKey.account_id, DirtyKey.user_id).in_([(c.account_id, c.user_id) for c in claims]),
        DirtyKey.claimed_by == worker).values(claimed_by=None, claimed_until=None))


def release(session: Session, claim_: Claim, worker: str) -> None:
    """Give a key back untouched (the account stopped, or the worker is shutting down)."""
    session.execute(update(DirtyKey).where(*_mine(claim_, worker)).values(claimed_by=None, claimed_until=None))


def retry(session: Session, claim_: Claim, worker: str, at: datetime, error: str) -> None:
    """Put a key back for a later attempt; if it was marked again meanwhile it stays due now."""
    session.execute(
        update(DirtyKey)
        .where(*_mine(claim_, worker))
        .values(
            attempts=DirtyKey.attempts + 1,
            due_at=case((DirtyKey.generation == claim_.generation, literal(at, UTCDateTime)), else_=DirtyKey.due_at),
            last_error=error[:2000],
            claimed_by=None,
            claimed_until=None,
        )
    )


def next_due(session: Session) -> datetime | None:
    """When the earliest key of a working account falls due (None: no key waits)."""
    return session.execute(
        select(DirtyKey.due_at).join(Connection, Connection.account_id == DirtyKey.account_id)
        .where(Connection.state.in_(WORKING_STATES)).order_by(DirtyKey.due_at).limit(1)).scalar()


def pending(session: Session, account_id: str) -> set[str]:
    """Users of an account still waiting for reconcile."""
    rows = session.execute(select(DirtyKey.user_id).where(DirtyKey.account_id == account_id))
    return {r[0] for r in rows}

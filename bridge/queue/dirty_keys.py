"""The dirty-key work queue: marking users dirty and claiming ready keys (what a worker then does with
the keys it holds — lease, lock, complete, retry — is in :mod:`bridge.queue.held_keys`).

A change marks users dirty in its own transaction (the outbox); workers claim ready keys with one
statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and hold them by a lease, so several worker
processes never work one key at once and a dead worker's keys come back when its lease ends.

Fair between accounts: each key is in a :class:`Lane` — a fresh LMS change before bulk work — and the
claim ranks ready keys by (lane, the key's turn within its account and lane, due time), so accounts take
turns within a lane, and it gives no account more than ``cap`` keys in flight while another account's
keys wait (docs/RELIABILITY.md, "Fair claiming").
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from sqlalchemy import (
    Executable,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect, Subquery

from bridge.codes import WORKING_STATES
from bridge.db import Upsert
from bridge.models import Connection, DirtyKey, UTCDateTime, utcnow
from bridge.queue import wakeup

LEASE = timedelta(seconds=10)  # kept alive by the worker's heartbeat (every 2 s): a dead worker's keys return fast
ACCOUNT_CAP = 160  # keys of one account in flight while others wait (a claim's default; workers use account_cap)
OVERSAMPLE = 4  # the claim ranks this many times its limit, so a claim racing another still finds keys
# a mark of this many keys or more refreshes the queue's statistics (PostgreSQL): see mark_dirty
ANALYZE_AFTER = 1000


def account_cap(threads: int, group_size: int) -> int:
    """The keys one account may hold in flight while another's wait: half of ``threads`` passes of
    ``group_size`` users (a worker's backfill passes), never under :data:`ACCOUNT_CAP`."""
    return max(ACCOUNT_CAP, threads * group_size // 2)


class Lane(IntEnum):
    """Which work goes first: a fresh LMS change before bulk work, whatever their ages."""

    FRESH = 0  # a hook's change, a manager's retry of one user, a pass's follow-up
    BULK = 1  # switch-on backfill, Resynchronise all, the periodic full pass, Outlook-side checks


@dataclass(frozen=True)
class Claim:
    """A key a worker holds: the generation tells whether it was marked again meanwhile."""

    account_id: str
    user_id: str
    generation: int
    attempts: int
    marked_at: datetime | None = None  # when it was marked, if this is its first attempt since
    lane: Lane = Lane.FRESH


def mark_dirty(session: Session, account_id: str, user_ids: Iterable[str], now: datetime | None = None,
               lane: Lane = Lane.FRESH) -> int:
    """Mark users of one account for reconcile in ``lane``; a key already queued is bumped, made due
    now and moved to the fresher of its lane and ``lane``. Keys are written in user order (a worker
    settling never waits for them while holding keys: :func:`bridge.queue.held_keys.lock`). The
    n-th key is due n microseconds after ``now`` (UTC): no two keys of one mark tie, so the claim reads
    an account's first keys by (lane, due time) alone, through its index.

    On PostgreSQL a mark of :data:`ANALYZE_AFTER` keys or more (Resynchronise all, a switch-on, a
    course's change) refreshes the table's statistics in the same transaction (``ANALYZE``, which
    counts this transaction's own rows; ``SKIP_LOCKED``: never waits for another one): the planner's
    figures for the queue were taken when it held few keys, and with them every statement of a pass
    that names its keys (:mod:`bridge.queue.held_keys`: the lock, the completion, the latency marks)
    read all of the account's keys instead of seeking its few, and the claim sorted them all
    (docs/BENCHMARKS.md, B5) — until autovacuum's analyze, a minute or more later, if it is on."""
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return 0
    now = now or utcnow()
    session.execute(_MARK.statement(session), [
        {"account_id": account_id, "user_id": u, "generation": 1, "due_at": now + timedelta(microseconds=n),
         "attempts": 0, "lane": int(lane)} for n, u in enumerate(ids)])
    if len(ids) >= ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        session.execute(_ANALYZE)
    wakeup.notify(session)
    return len(ids)


_ANALYZE = text(f"ANALYZE (SKIP_LOCKED) {DirtyKey.__tablename__}")


def _bumped(keys: Table, new: object) -> dict[str, object]:
    fresher = case((new.lane < keys.c.lane, new.lane), else_=keys.c.lane)  # type: ignore[attr-defined]
    return {"generation": keys.c.generation + 1, "lane": fresher}


# A key queued again is bumped (its pass sees it was marked meanwhile), due now, its attempts reset,
# promoted to the fresh lane by a fresh mark (never demoted by a bulk one).
_MARK = Upsert(DirtyKey, conflict=("account_id", "user_id"), update=("due_at", "attempts"), also=_bumped)


def to_bulk(session: Session, account_id: str) -> None:
    """Put every key of an account in the bulk lane: at switch-on, the keys that hooks queued while
    the account was not connected are part of its backfill, not fresh changes."""
    session.execute(update(DirtyKey).where(DirtyKey.account_id == account_id).values(lane=int(Lane.BULK)))


def claim(session: Session, worker: str, limit: int, now: datetime | None = None,
          lease: timedelta = LEASE, cap: int = ACCOUNT_CAP) -> list[Claim]:
    """Take up to ``limit`` ready keys of connected accounts under a lease, fairly: fresh keys before
    bulk ones; within a lane each account's oldest key, then each one's second, …; and while more than
    one account has keys ready, none past ``cap`` keys in flight (a lone account takes what is free).

    One statement (:func:`_claim_statement`), whose cost grows with the accounts that have keys and
    with ``limit``, not with the keys queued.
    """
    now = now or utcnow()
    rows = session.connection().execute(_claim_statement(session.get_bind().dialect.name == "postgresql"), {
        "now": now, "until": now + lease, "worker": worker, "cap": cap, "take": limit,
        "ranked": limit * OVERSAMPLE, "nth": limit - 1})
    return [Claim(row.account_id, row.user_id, row.generation, row.attempts,
                  marked_at=row.due_at if row.attempts == 0 else None, lane=Lane(row.lane)) for row in rows.all()]


@functools.cache
def _claim_statement(postgresql: bool) -> Executable:
    """The claim, built once per dialect (building it costs more than running it); its parameters:
    ``now``, ``until`` (the lease's end), ``worker``, ``cap``, ``take`` (the limit), ``ranked``
    (``take`` × :data:`OVERSAMPLE`) and ``nth`` (``take`` − 1).

    Each account with keys brings at most ``take`` of its ready keys, its first in (lane, due time)
    order (:func:`_first_keys`); those few are ranked with window functions — ``turn``, the key's place
    in its account's lane, and ``place``, its place among its account's keys after those in flight —
    and the keys ranked first are locked ``FOR UPDATE SKIP LOCKED`` (window functions cannot be
    locked, so the ranking reads without locks) and claimed: two workers never take one key, and a
    claim racing another skips what that one locked. The cap counts keys in flight when the statement
    starts, so racing claims may pass it by one claim's worth.
    """
    now = bindparam("now", type_=UTCDateTime)
    unclaimed = or_(DirtyKey.claimed_until.is_(None), DirtyKey.claimed_until < now)
    keys = _first_keys(now, unclaimed, postgresql)
    candidates = (
        select(keys.c.account_id, keys.c.user_id, keys.c.lane, keys.c.due_at,
               func.row_number().over(partition_by=(keys.c.account_id, keys.c.lane),
                                      order_by=keys.c.due_at).label("turn"),
               (func.row_number().over(partition_by=keys.c.account_id, order_by=(keys.c.lane, keys.c.due_at))
                + keys.c.holding).label("place"),
               (func.min(keys.c.account_id).over() == func.max(keys.c.account_id).over()).label("alone"))
        .subquery("candidates")
    )
    ranked = (
        select(candidates.c.account_id, candidates.c.user_id, candidates.c.lane, candidates.c.turn,
               candidates.c.due_at)
        .where(or_(candidates.c.alone, candidates.c.place <= bindparam("cap", type_=Integer)))
        .order_by(candidates.c.lane, candidates.c.turn, candidates.c.due_at)
        .limit(bindparam("ranked", type_=Integer))
        .subquery("ranked")
    )
    taken = (
        select(DirtyKey.account_id, DirtyKey.user_id)
        .join(ranked, and_(ranked.c.account_id == DirtyKey.account_id, ranked.c.user_id == DirtyKey.user_id))
        .where(unclaimed)
        .order_by(ranked.c.lane, ranked.c.turn, ranked.c.due_at)
        .limit(bindparam("take", type_=Integer))
        .with_for_update(of=DirtyKey, skip_locked=True)
    )
    return (
        update(DirtyKey)
        .where(tuple_(DirtyKey.account_id, DirtyKey.user_id).in_(taken))
        .values(claimed_by=bindparam("worker"), claimed_until=bindparam("until", type_=UTCDateTime))
        .returning(DirtyKey.account_id, DirtyKey.user_id, DirtyKey.generation, DirtyKey.attempts, DirtyKey.due_at,
                   DirtyKey.lane)
        .execution_options(synchronize_session=False)
    )


def _first_keys(now: ColumnElement[datetime], unclaimed: ColumnElement[bool], postgresql: bool) -> Subquery:
    """The first ``take`` ready keys of each working account that has keys, in (lane, due time) order,
    with the account's keys in flight: (account_id, user_id, lane, due_at, holding).

    The accounts are found by a loose index scan, one seek each. PostgreSQL reads each one's keys with
    a ``LATERAL`` index scan that stops after ``take``; SQLite, which has no ``LATERAL``, first finds
    the (lane, due time) of each account's ``take``-th ready key and reads its keys up to that one
    through the same index (due times do not tie within a mark: :func:`mark_dirty`).
    """
    ready = and_(DirtyKey.due_at <= now, unclaimed)
    later = aliased(DirtyKey)
    seek = select(func.min(DirtyKey.account_id).label("account_id")).cte("seek", recursive=True)
    seek = seek.union_all(
        select(select(func.min(later.account_id)).where(later.account_id > seek.c.account_id).scalar_subquery())
        .where(seek.c.account_id.is_not(None)))
    holding = (select(func.count()).where(DirtyKey.account_id == seek.c.account_id, DirtyKey.claimed_until >= now)
               .scalar_subquery().label("holding"))
    working = Connection.state.in_(WORKING_STATES)
    mine = (DirtyKey.account_id, DirtyKey.user_id, DirtyKey.lane, DirtyKey.due_at)
    if postgresql:
        # materialized: each account's keys in flight are counted once, not again for each of its keys
        accounts = (select(seek.c.account_id, holding).join(Connection, Connection.account_id == seek.c.account_id)
                    .where(working).cte("accounts").prefix_with("MATERIALIZED"))
        first = (select(*mine).where(DirtyKey.account_id == accounts.c.account_id, ready)
                 .order_by(DirtyKey.lane, DirtyKey.due_at).limit(bindparam("take", type_=Integer)).lateral("first"))
        return select(first, accounts.c.holding).join_from(accounts, first, true()).subquery("keys")

    def nth(column: Any) -> ScalarSelect[Any]:
        return (select(column).where(DirtyKey.account_id == seek.c.account_id, ready)
                .order_by(DirtyKey.lane, DirtyKey.due_at)
                .offset(bindparam("nth", type_=Integer)).limit(1).scalar_subquery())

    past_every_lane = len(Lane)  # an account with fewer ready keys brings them all: (lane, …) < (2, None)
    accounts = (select(seek.c.account_id, holding, func.coalesce(nth(DirtyKey.lane), past_every_lane).label("lane"),
                       nth(DirtyKey.due_at).label("due_at"))
                .join(Connection, Connection.account_id == seek.c.account_id)
                .where(working).cte("accounts").prefix_with("MATERIALIZED"))
    return (select(*mine, accounts.c.holding).join(accounts, accounts.c.account_id == DirtyKey.account_id)
            .where(ready, tuple_(DirtyKey.lane, DirtyKey.due_at) <= tuple_(accounts.c.lane, accounts.c.due_at))
            .subquery("keys"))


def next_due(session: Session) -> datetime | None:
    """When the earliest key of a working account falls due (None: no key waits)."""
    return session.execute(
        select(DirtyKey.due_at).join(Connection, Connection.account_id == DirtyKey.account_id)
        .where(Connection.state.in_(WORKING_STATES)).order_by(DirtyKey.due_at).limit(1)).scalar()


def pending(session: Session, account_id: str) -> set[str]:
    """Users of an account still waiting for reconcile."""
    rows = session.execute(select(DirtyKey.user_id).where(DirtyKey.account_id == account_id))
    return {r[0] for r in rows}

"""The dirty-key work queue: every statement that touches ``dirty_keys`` lives here.

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
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Executable,
    Integer,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect, Subquery

from bridge.codes import WORKING_STATES
from bridge.db import Upsert
from bridge.models import Connection, DirtyKey, Entry, UTCDateTime, utcnow
from bridge.queue import wakeup

LEASE = timedelta(seconds=10)  # kept alive by the worker's heartbeat (every 2 s): a dead worker's keys return fast
ACCOUNT_CAP = 160  # keys of one account in flight while others wait (a claim's default; workers use account_cap)
OVERSAMPLE = 4  # the claim ranks this many times its limit, so a claim racing another still finds keys


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
    settling never waits for them while holding keys: :func:`lock`). The
    n-th key is due n microseconds after ``now`` (UTC): no two keys of one mark tie, so the claim reads
    an account's first keys by (lane, due time) alone, through its index."""
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return 0
    now = now or utcnow()
    session.execute(_MARK.statement(session), [
        {"account_id": account_id, "user_id": u, "generation": 1, "due_at": now + timedelta(microseconds=n),
         "attempts": 0, "lane": int(lane)} for n, u in enumerate(ids)])
    wakeup.notify(session)
    return len(ids)


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
        accounts = (select(seek.c.account_id, holding).join(Connection, Connection.account_id == seek.c.account_id)
                    .where(working).cte("accounts"))
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


def lock(session: Session, claims: list[Claim], tries: int = 200, pause: float = 0.01) -> None:
    """Lock the keys of ``claims`` (one account's) before settling them, without ever waiting while
    holding one.

    Call it first in the settling transaction. On PostgreSQL the keys are taken ``FOR UPDATE SKIP
    LOCKED`` in a savepoint; while a hook holds one of them (it marks keys for milliseconds, and one
    hook transaction may mark several batches, so no single key order can be shared with it), the
    savepoint is rolled back — releasing what it took — and tried again after ``pause`` seconds; after
    ``tries`` it waits for them. A worker holding keys then never waits for a hook: no deadlock. SQLite
    locks the whole database for a write, so there is nothing to do.
    """
    if not claims or session.get_bind().dialect.name != "postgresql":
        return
    take, count, wait = _locks()
    values = {"account": _account_of(claims), "users": sorted({c.user_id for c in claims})}
    for _ in range(tries):
        attempt = session.begin_nested()
        taken = len(session.execute(take, values).all())
        if taken == len(values["users"]) or taken == session.execute(count, values).scalar_one():
            attempt.commit()
            return
        attempt.rollback()
        time.sleep(pause)
    session.execute(wait, values)


def _account_of(claims: list[Claim]) -> str:
    """The one account of a group's claims (a group never mixes accounts: bridge.worker.loop)."""
    accounts = {c.account_id for c in claims}
    if len(accounts) != 1:
        raise ValueError(f"a group of keys must be of one account, not {sorted(accounts)}")
    return accounts.pop()


def _users(postgresql: bool) -> ColumnElement[bool]:
    """Keys of ``:account`` whose user is one of ``:users``: an array on PostgreSQL (one statement text
    whatever the group's size), an expanded ``IN`` elsewhere."""
    keys = _table()
    if postgresql:
        return and_(keys.c.account_id == bindparam("account"),
                    keys.c.user_id == any_(bindparam("users", type_=ARRAY(String()))))
    return and_(keys.c.account_id == bindparam("account"), keys.c.user_id.in_(bindparam("users", expanding=True)))


@functools.cache
def _locks() -> tuple[Executable, Executable, Executable]:
    """:func:`lock`'s statements (PostgreSQL): take what is free, count what is there, wait for all."""
    keys, mine = _table(), _users(True)
    return (select(keys.c.user_id).where(mine).with_for_update(skip_locked=True),
            select(func.count()).select_from(keys).where(mine),
            select(keys.c.user_id).where(mine).order_by(keys.c.user_id).with_for_update())


def _table() -> Table:
    return cast(Table, DirtyKey.__table__)


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
    """:func:`complete` for one account's keys, two statements for all: each key still of the generation
    claimed is dropped, the others (marked again meanwhile) are released."""
    if not claims:
        return
    drop, release_ = _completions(session.get_bind().dialect.name == "postgresql")
    values = {**_key_values(session, claims), "worker": worker}
    session.execute(drop, values)
    session.execute(release_, values)


@functools.cache
def _completions(postgresql: bool) -> tuple[Executable, Executable]:
    """:func:`complete_all`'s statements (:func:`_claimed`'s parameters, and ``:worker``)."""
    keys = _table()
    held = keys.c.claimed_by == bindparam("worker")
    return (delete(keys).where(_claimed(postgresql), held),
            update(keys).where(_users(postgresql), held).values(claimed_by=None, claimed_until=None))


def due_of_written(session: Session, claims: list[Claim], since: datetime) -> list[datetime]:
    """When the keys of ``claims`` (one account's, still of the generation claimed) fell due, for those
    whose user had an entry written at or after ``since`` (the latency samples of the health panel)."""
    if not claims:
        return []
    values = _key_values(session, claims)
    return list(session.scalars(_due_of_written(session.get_bind().dialect.name == "postgresql"),
                                {**values, "since": since}))


def _key_values(session: Session, claims: list[Claim]) -> dict[str, Any]:
    """The values of :func:`_claimed`'s parameters for ``claims``."""
    values: dict[str, Any] = {"account": _account_of(claims), "users": [c.user_id for c in claims]}
    if session.get_bind().dialect.name == "postgresql":
        values["generations"] = [c.generation for c in claims]
    else:
        values["pairs"] = [(c.user_id, c.generation) for c in claims]
    return values


def _claimed(postgresql: bool) -> ColumnElement[bool]:
    """Keys of ``:account`` still of the generation claimed: on PostgreSQL ``:users`` and
    ``:generations``, two arrays unnested side by side; elsewhere ``:pairs``, an expanded list of
    (user, generation)."""
    keys = _table()
    if postgresql:
        pairs: Any = select(func.unnest(bindparam("users", type_=ARRAY(String()))),
                            func.unnest(bindparam("generations", type_=ARRAY(Integer()))))
        return and_(keys.c.account_id == bindparam("account"), tuple_(keys.c.user_id, keys.c.generation).in_(pairs))
    return and_(keys.c.account_id == bindparam("account"),
                tuple_(keys.c.user_id, keys.c.generation).in_(bindparam("pairs", expanding=True)))


@functools.cache
def _due_of_written(postgresql: bool) -> Executable:
    keys, entries = _table(), cast(Table, Entry.__table__)
    wrote = exists().where(entries.c.account_id == keys.c.account_id, entries.c.user_id == keys.c.user_id,
                           entries.c.updated_at >= bindparam("since", type_=UTCDateTime))
    return select(keys.c.due_at).where(_claimed(postgresql), wrote)


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

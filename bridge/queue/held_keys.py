"""Statements on the keys a worker holds (:mod:`bridge.queue.dirty_keys` marks and claims them): the
lease's heartbeat, locking a worked group's keys before settling them, completing, releasing and
retrying them, and the marks of the keys whose entries were written (for the latency figures).

Lists of keys go as one array on PostgreSQL (one statement text whatever the group's size, parsed
and prepared once) and as an expanded ``IN`` on SQLite.
"""
from __future__ import annotations

import functools
import time
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Executable,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from bridge.db import among
from bridge.models import DirtyKey, Entry, UTCDateTime, utcnow
from bridge.queue.dirty_keys import LEASE, Claim


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
    """Keys of ``:account`` whose user is one of ``:users`` (:func:`bridge.db.among`)."""
    keys = _table()
    return and_(keys.c.account_id == bindparam("account"), among(keys.c.user_id, "users", postgresql))


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


def written_values(session: Session, claims: list[Claim], since: datetime) -> dict[str, Any]:
    """The parameters of :func:`written_due` for ``claims`` (one account's) and ``since``."""
    return {**_key_values(session, claims), "since": since}


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
def written_due(postgresql: bool) -> Subquery:
    """``due_at`` of the claimed keys (still of the generation claimed) whose user had an entry written
    at or after ``:since`` (the latency samples of the health panel; parameters: :func:`written_values`)."""
    keys, entries = _table(), cast(Table, Entry.__table__)
    wrote = exists().where(entries.c.account_id == keys.c.account_id, entries.c.user_id == keys.c.user_id,
                           entries.c.updated_at >= bindparam("since", type_=UTCDateTime))
    return select(keys.c.due_at).where(_claimed(postgresql), wrote).subquery("written")


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

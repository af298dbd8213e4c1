"""The health panel: is the plugin keeping up? Read in one storage function, summarised by a pure one.

Hook → Outlook latency comes from :class:`bridge.models.LatencySample` rows, which the sync stores
(:func:`bridge.sync.store.record_latencies`): when the worker settles a user whose pass created or
updated an entry, it stores the seconds since the user's work became due (the arrival of the change
that marked them, or, after a failure, the retry's time). Samples older than an hour are deleted as
new ones come, so the table stays bounded by one hour of settled writes.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bridge import codes
from bridge.codes import Reason
from bridge.models import Connection, Delivery, DirtyKey, LatencySample, UserState
from bridge.sync.store import LATENCY_WINDOW as WINDOW

THROTTLE_MARKS = ("429", "TooManyRequests", "ApplicationThrottled")


@dataclass(frozen=True)
class HealthInputs:
    """The raw facts, as stored."""

    last_hook_at: datetime | None
    waiting: int
    retrying: int
    oldest_due_at: datetime | None
    latencies: list[float]
    last_full_pass_at: datetime | None
    failures: dict[str, int]
    throttled: int


@dataclass(frozen=True)
class Health:
    """The panel: ages in seconds, latency percentiles in seconds (None without samples)."""

    last_hook_at: datetime | None
    waiting: int
    retrying: int
    oldest_waiting_seconds: float | None
    latency_p50: float | None
    latency_p95: float | None
    latency_samples: int
    last_full_pass_at: datetime | None
    failures: dict[str, int] = field(default_factory=dict)
    throttled: int = 0


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarise(facts: HealthInputs, now: datetime) -> Health:
    """The panel's figures from the stored facts (pure)."""
    oldest = None if facts.oldest_due_at is None else max(0.0, (now - facts.oldest_due_at).total_seconds())
    return Health(facts.last_hook_at, facts.waiting, facts.retrying, oldest, percentile(facts.latencies, 0.5),
                  percentile(facts.latencies, 0.95), len(facts.latencies), facts.last_full_pass_at,
                  dict(sorted(facts.failures.items(), key=lambda item: (-item[1], item[0]))), facts.throttled)


def facts(session: Session, account_id: str, now: datetime) -> HealthInputs:
    """Read the account's health facts (a handful of indexed aggregate queries)."""
    last_hook = session.execute(select(func.max(Delivery.received_at))
                                .where(Delivery.account_id == account_id)).scalar_one()
    waiting, retrying = session.execute(
        select(func.count(), func.count().filter(DirtyKey.attempts > 0)).where(DirtyKey.account_id == account_id)
    ).one()
    oldest = session.execute(select(func.min(DirtyKey.due_at)).where(
        DirtyKey.account_id == account_id, DirtyKey.due_at <= now)).scalar_one()
    latencies = list(session.scalars(select(LatencySample.seconds).where(
        LatencySample.account_id == account_id, LatencySample.settled_at > now - WINDOW)))
    full_pass = session.execute(select(Connection.full_reconcile_at)
                                .where(Connection.account_id == account_id)).scalar_one_or_none()
    failures = {reason or Reason.ERROR: int(n) for reason, n in session.execute(
        select(UserState.reason, func.count()).where(UserState.account_id == account_id,
                                                     UserState.state == codes.UserState.FAILED)
        .group_by(UserState.reason))}
    throttled = session.execute(select(func.count()).select_from(DirtyKey).where(
        DirtyKey.account_id == account_id,
        or_(*[DirtyKey.last_error.contains(mark) for mark in THROTTLE_MARKS]))).scalar_one()
    return HealthInputs(last_hook, int(waiting), int(retrying), oldest, latencies, full_pass, failures, int(throttled))



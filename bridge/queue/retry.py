"""Retry decisions as values: what to do after a failed pass, computed from the error alone."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.graph import errors
from bridge.graph.backoff import backoff

MAX_ATTEMPTS = 12
TENANT_BACKOFF_CAP = timedelta(hours=1)


@dataclass(frozen=True)
class RetryAt:
    at: datetime
    reason: str


@dataclass(frozen=True)
class GiveUp:
    reason: str


def after_user_failure(error: Exception, attempts: int, now: datetime,
                       rng: random.Random | None = None) -> RetryAt | GiveUp:
    """A user's pass failed with ``error`` after ``attempts`` earlier failures. A throttled user is
    retried when Graph's ``Retry-After`` (or a pause it asked for) ends, however often; any other
    failure is given up after :data:`MAX_ATTEMPTS`."""
    if isinstance(error, errors.Throttled):  # Graph says when: never given up for waiting
        return RetryAt(now + timedelta(seconds=max(error.retry_after, 1.0)), str(error))
    if attempts + 1 >= MAX_ATTEMPTS:
        return GiveUp(f"gave up after {attempts + 1} attempts: {error}")
    if isinstance(error, errors.Transient):
        wait = max(error.retry_after or 0.0, backoff(attempts, base=2.0, cap=600.0, rng=rng))
        return RetryAt(now + timedelta(seconds=wait), str(error))
    # a refusal we did not expect (a bad request, a bug): retry slowly, then give up
    return RetryAt(now + timedelta(seconds=backoff(attempts, base=30.0, cap=3600.0, rng=rng)), str(error))


def after_tenant_failure(failures: int, now: datetime, rng: random.Random | None = None) -> datetime:
    """When to probe a suspended tenant again: 1 minute, doubling, up to an hour; never a hot loop."""
    seconds = backoff(failures, base=60.0, cap=TENANT_BACKOFF_CAP.total_seconds(), rng=rng)
    return now + timedelta(seconds=seconds)

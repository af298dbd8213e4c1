"""Retry decisions are values computed from the error alone."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bridge.graph import errors
from bridge.queue import retry

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_throttled_waits_retry_after() -> None:
    decision = retry.after_user_failure(errors.Throttled("429", 2.5), 0, NOW)
    assert isinstance(decision, retry.RetryAt) and decision.at == NOW + timedelta(seconds=2.5)


def test_transient_backs_off_exponentially_with_jitter() -> None:
    rng = random.Random(1)
    waits = [(retry.after_user_failure(errors.Transient("503"), n, NOW, rng).at - NOW).total_seconds()  # type: ignore[union-attr]
             for n in range(6)]
    for n, wait in enumerate(waits):
        ceiling = min(600.0, 2.0 * 2**n)
        assert ceiling / 2 <= wait <= ceiling


def test_retry_after_on_a_5xx_is_obeyed() -> None:
    decision = retry.after_user_failure(errors.Transient("503", retry_after=30.0), 0, NOW)
    assert isinstance(decision, retry.RetryAt) and decision.at >= NOW + timedelta(seconds=30)


def test_gives_up_after_the_last_attempt() -> None:
    decision = retry.after_user_failure(errors.Transient("503"), retry.MAX_ATTEMPTS - 1, NOW)
    assert isinstance(decision, retry.GiveUp) and "503" in decision.reason


def test_tenant_probe_backs_off_to_an_hour() -> None:
    rng = random.Random(2)
    first = retry.after_tenant_failure(0, NOW, rng) - NOW
    late = retry.after_tenant_failure(20, NOW, rng) - NOW
    assert timedelta(seconds=30) <= first <= timedelta(seconds=60)
    assert timedelta(minutes=30) <= late <= timedelta(hours=1)

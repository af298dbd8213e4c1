"""Fault injection: latency, 503/429, connection resets, and "ambiguous" writes.

A real tenant's Graph is slow, throttles, fails over and drops connections; a client that never
saw those paths breaks at its first customer. Every decision comes from one seeded RNG (one draw
per request, in arrival order), so a run with a seed and sequential requests is repeatable.

Latency: ``uniform`` draws from [mean - jitter, mean + jitter]; ``normal`` from a normal
distribution with sigma = jitter; both clipped at 0.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from .config import FaultOptions

ABORT_KEY = "emulator.abort"


@dataclass(frozen=True)
class Fault:
    """What to do to one request; ``kind`` is "" when nothing goes wrong."""

    kind: str  # "" | "reset" | "503" | "429" | "concurrent_item_save" | "ambiguous"
    retry_after: float | None = None


NO_FAULT = Fault("")


class FaultInjector:
    """Draws faults and latencies from the configured rates."""

    def __init__(self, options: FaultOptions) -> None:
        self.options = options
        self.rng = random.Random(options.seed)

    def configure(self, options: FaultOptions) -> None:
        self.options = options
        self.rng = random.Random(options.seed)

    def latency(self) -> float:
        """Seconds to wait before answering."""
        o = self.options
        if o.latency_ms <= 0 and o.latency_jitter_ms <= 0:
            return 0.0
        if o.latency_jitter_ms <= 0:
            return o.latency_ms / 1000
        if o.latency_distribution == "normal":
            value = self.rng.gauss(o.latency_ms, o.latency_jitter_ms)
        else:
            value = self.rng.uniform(o.latency_ms - o.latency_jitter_ms, o.latency_ms + o.latency_jitter_ms)
        return max(value, 0.0) / 1000

    def _retry_after(self) -> float:
        return round(self.options.retry_after_s * self.rng.uniform(0.5, 1.5), 3)

    def draw(self, method: str, *, event_create: bool, whole_request: bool, connection_only: bool = False) -> Fault:
        """Pick this request's fault.

        ``whole_request`` allows the connection-level faults (reset, ambiguous), which a $batch
        item cannot have on its own; ``connection_only`` (a $batch envelope) allows nothing else.
        ``event_create`` allows ConcurrentItemSave.
        """
        o = self.options
        if o.methods is not None and method.upper() not in o.methods:
            return NO_FAULT
        rates = [
            ("reset", o.rate_reset if whole_request else 0.0),
            ("503", 0.0 if connection_only else o.rate_503),
            ("429", 0.0 if connection_only else o.rate_429),
            ("concurrent_item_save", o.rate_concurrent_item_save if event_create else 0.0),
            ("ambiguous", o.rate_ambiguous if whole_request and method != "GET" else 0.0),
        ]
        if not any(rate for _, rate in rates):
            return NO_FAULT
        u = self.rng.random()
        for kind, rate in rates:
            if u < rate:
                if kind == "429":
                    return Fault(kind, self._retry_after())
                if kind == "503":
                    return Fault(kind, self._retry_after() if self.rng.random() < 0.5 else None)
                return Fault(kind)
            u -= rate
        return NO_FAULT

    async def hold_ambiguous(self) -> None:
        if self.options.ambiguous_hold_ms > 0:
            await asyncio.sleep(self.options.ambiguous_hold_ms / 1000)


async def abort_connection(scope: MutableMapping[str, Any]) -> None:
    """Drop the TCP connection with no response (needs the server's abortable protocol)."""
    abort = scope.get(ABORT_KEY)
    if abort is None:
        raise RuntimeError("connection faults need emulator.server's protocol (abort hook missing)")
    abort()
    for _ in range(3):  # let the transport report connection_lost, so no 500 is attempted
        await asyncio.sleep(0)

"""Counters and a bounded request log, so tests and benchmarks can see what clients did.

Tests assert on these (how many creates, how many were throttled, the most requests ever in
flight for one mailbox, whether anyone was sent an invitation) instead of trusting the client.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from typing import Any


class Metrics:
    """Request log (ring buffer) plus counters by status, kind and outcome."""

    def __init__(self, log_size: int) -> None:
        self.log: deque[dict[str, Any]] = deque(maxlen=max(log_size, 1))
        self.by_status: Counter[str] = Counter()
        self.by_kind: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self._seq = 0

    def resize(self, log_size: int) -> None:
        self.log = deque(self.log, maxlen=max(log_size, 1))

    def clear(self) -> None:
        self.__init__(self.log.maxlen or 1)  # type: ignore[misc]

    def record(
        self,
        *,
        kind: str,
        method: str,
        path: str,
        status: int,
        tenant: str | None = None,
        mailbox: str | None = None,
        client_id: str | None = None,
        fault: str = "",
        started: float | None = None,
        batch: bool = False,
        query: list[str] | None = None,
    ) -> None:
        """One finished request (status 0 = the connection was dropped); ``query``: the names of its
        query parameters (never their values: a delta token is a credential of sorts)."""
        self._seq += 1
        now = time.time()
        self.by_status[str(status)] += 1
        self.by_kind[kind] += 1
        if fault:
            self.faults[fault] += 1
        self.log.append(
            {
                "seq": self._seq,
                "time": now,
                "kind": kind,
                "method": method,
                "path": path,
                "query": query or [],
                "status": status,
                "tenant": tenant,
                "mailbox": mailbox,
                "client_id": client_id,
                "fault": fault or None,
                "batch_item": batch,
                "duration_ms": round((now - started) * 1000, 3) if started else None,
            }
        )

    def snapshot(self, max_concurrency: dict[str, int], in_flight: dict[str, int]) -> dict[str, Any]:
        return {
            "requests": sum(self.by_status.values()),
            "by_status": dict(self.by_status),
            "by_kind": dict(self.by_kind),
            "creates": self.outcomes["create"],
            "duplicate_creates_avoided": self.outcomes["transaction_replay"],
            "updates": self.outcomes["update"],
            "deletes": self.outcomes["delete"],
            "invitations_sent": self.outcomes["invitation"],
            "tokens_issued": self.outcomes["token"],
            "throttled": sum(self.throttled.values()),
            "throttled_by_reason": dict(self.throttled),
            "faults": dict(self.faults),
            "max_concurrency": max_concurrency,
            "in_flight": in_flight,
        }

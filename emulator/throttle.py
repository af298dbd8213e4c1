"""Outlook's per-app, per-mailbox limits: 4 requests in flight and a request budget per window.

Keyed by (app, tenant, mailbox) so one busy mailbox never slows another, as in Exchange Online.
Only admitted requests count against the window.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from .config import LimitOptions

MailboxKey = tuple[str, str, str]  # (client id, tenant id, user id)


@dataclass(frozen=True)
class Refusal:
    """A 429 to send instead of serving the request."""

    code: str
    message: str
    retry_after: float | None
    reason: str  # "concurrency" | "window"


class MailboxThrottle:
    """Counts requests in flight and in the current window for each mailbox key."""

    def __init__(self, limits: LimitOptions) -> None:
        self.limits = limits
        self.in_flight: dict[MailboxKey, int] = {}
        self.max_seen: dict[MailboxKey, int] = {}
        self._window: dict[MailboxKey, deque[float]] = {}

    def reset(self) -> None:
        self.in_flight.clear()
        self.max_seen.clear()
        self._window.clear()

    def enter(self, key: MailboxKey, now: float | None = None) -> Refusal | None:
        """Admit the request (then `leave` must follow) or return the refusal."""
        now = time.monotonic() if now is None else now
        busy = self.in_flight.get(key, 0)
        if busy >= self.limits.concurrency:
            return Refusal(
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
                None,
                "concurrency",
            )
        stamps = self._window.get(key)
        if stamps is None:
            stamps = self._window[key] = deque()
        horizon = now - self.limits.window_seconds
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        if len(stamps) >= self.limits.window_requests:
            wait = max(stamps[0] + self.limits.window_seconds - now, 0.001)
            return Refusal(
                "TooManyRequests",
                "Application is over its MailboxRequestCount limit. Please retry after the time "
                "given in the Retry-After header.",
                wait,
                "window",
            )
        stamps.append(now)
        self.in_flight[key] = busy + 1
        if busy + 1 > self.max_seen.get(key, 0):
            self.max_seen[key] = busy + 1
        return None

    def leave(self, key: MailboxKey) -> None:
        left = self.in_flight.get(key, 1) - 1
        if left <= 0:
            self.in_flight.pop(key, None)
        else:
            self.in_flight[key] = left


def format_retry_after(seconds: float) -> str:
    """Retry-After as Outlook sends it: seconds, possibly fractional (``2.128``)."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return text or "0.001"

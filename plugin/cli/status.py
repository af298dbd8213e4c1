"""The trust lines of ``outlook-sync status``: credentials with days left, and each account's health."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bridge.config import Settings
from bridge.trust import credentials, expiry, health


def credential_lines(session: Session, settings: Settings, now: datetime) -> list[str]:
    """One line per configured credential: days left, warning level, last refusal with its AADSTS code."""
    lines = []
    for c in credentials.states(session, expiry.configured(settings), now):
        left = "end date not set" if c.days_left is None else f"{c.days_left} days left"
        line = f"credential {c.slot} {c.kind}: {left} [{c.level}]"
        if c.failing:
            line += f" refused AADSTS{c.code} ({c.reason}) at {c.failed_at:%Y-%m-%d %H:%M} UTC"
        elif c.ok_at:
            line += f" accepted at {c.ok_at:%Y-%m-%d %H:%M} UTC"
        lines.append(line)
    return lines


def health_line(session: Session, account_id: str, now: datetime) -> str:
    """The account's health panel on one line (ages in seconds, latency over the last hour)."""
    h = health.summarise(health.facts(session, account_id, now), now)
    latency = (f"p50={h.latency_p50:.1f}s p95={h.latency_p95:.1f}s n={h.latency_samples}"
               if h.latency_p50 is not None and h.latency_p95 is not None else "no writes in the last hour")
    oldest = "-" if h.oldest_waiting_seconds is None else f"{h.oldest_waiting_seconds:.0f}s"
    failures = ",".join(f"{k}={v}" for k, v in h.failures.items()) or "none"
    return (f"  health: last_hook={h.last_hook_at.isoformat() if h.last_hook_at else '-'} waiting={h.waiting}"
            f" retrying={h.retrying} oldest_waiting={oldest} latency {latency}"
            f" last_full_pass={h.last_full_pass_at.isoformat() if h.last_full_pass_at else '-'}"
            f" failures={failures} throttled={h.throttled}")

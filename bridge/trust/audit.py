"""The audit log of manager actions: who did what, when, and what it caused.

Each record is added with the caller's session, so it commits (or rolls back) with the action itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.codes import AuditAction
from bridge.models import AuditRecord, LmsUser, utcnow


@dataclass(frozen=True)
class AuditLine:
    """One record as shown: ``actor`` is the LMS user's name when known, else their id."""

    at: datetime
    actor_id: str | None
    actor: str
    action: str
    detail: dict[str, Any]


def record(session: Session, account_id: str, actor_id: str | None, action: str, *,
           at: datetime | None = None, **detail: Any) -> None:
    """Add a record to the caller's transaction; ``detail`` is what the action caused (JSON values).

    The details the page puts in words: connected ``users_queued``; disconnected ``remove_entries``;
    reminder_changed ``minutes``; user_retried ``user_id``; resynchronised ``users_queued``;
    mass_removal_confirmed ``entries`` and ``users``; credential_rotated ``slots``.

    Raises ``ValueError`` for an action not in :class:`~bridge.codes.AuditAction`.
    """
    if action not in tuple(AuditAction):
        raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(AuditAction)}")
    session.add(AuditRecord(account_id=account_id, at=at or utcnow(), actor_id=actor_id, action=action,
                            detail=detail or None))


def lines(session: Session, account_id: str, *, offset: int = 0, limit: int = 50) -> tuple[list[AuditLine], int]:
    """One page of the account's records, newest first, and how many there are in all."""
    total = session.execute(select(func.count()).select_from(AuditRecord)
                            .where(AuditRecord.account_id == account_id)).scalar_one()
    rows = session.execute(
        select(AuditRecord.at, AuditRecord.actor_id, LmsUser.name, AuditRecord.action, AuditRecord.detail)
        .outerjoin(LmsUser, (LmsUser.account_id == AuditRecord.account_id) & (LmsUser.id == AuditRecord.actor_id))
        .where(AuditRecord.account_id == account_id)
        .order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).offset(offset).limit(limit)
    ).all()
    return [AuditLine(r.at, r.actor_id, r.name or r.actor_id or "the plugin", r.action, dict(r.detail or {}))
            for r in rows], int(total)

"""Signed requests served once: the ``request_id`` of each ``POST /feeds/address`` and ``/users/state``.

Recorded like hook delivery ids (per account, by primary key, in the transaction that acts on the
request), and kept until the request's timestamp could no longer pass the signature check, so a
repeat is recognised for as long as it could be accepted; the worker's housekeeping then forgets it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.models import UsedRequest


class Repeated(Exception):
    """The request id was served before; the request must not be acted on again."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"request {request_id!r} was already served")
        self.request_id = request_id


def record_once(session: Session, account_id: str, request_id: str, expires_at: datetime) -> None:
    """Record ``request_id`` of ``account_id`` in the caller's transaction (kept until ``expires_at``, UTC).

    Raises :class:`Repeated` when it was recorded before (by any process; a concurrent copy waits for
    the first to commit on PostgreSQL, then fails). The caller's transaction must then be rolled back.
    """
    session.add(UsedRequest(account_id=account_id, id=request_id, expires_at=expires_at))
    try:
        session.flush()
    except IntegrityError:
        raise Repeated(request_id) from None


def forget_expired(session: Session, now: datetime) -> int:
    """Forget the request ids whose time has passed; returns how many."""
    result = session.execute(delete(UsedRequest).where(UsedRequest.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

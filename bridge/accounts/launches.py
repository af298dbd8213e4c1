"""Launch tokens are single use: the first open of a token wins, in every process, on both databases.

A token is remembered by its SHA-256 (never the token itself) until it would have expired anyway;
the primary key makes the claim an insert-or-fail, so of several concurrent opens exactly one
commits and the others get :class:`AlreadyUsed`.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bridge.db import Database
from bridge.models import UsedLaunch


class AlreadyUsed(Exception):
    """The launch token was opened before."""


def use_once(database: Database, token: str, expires_at: datetime, now: datetime) -> None:
    """Record ``token`` as used until ``expires_at``, in its own transaction, and purge expired ones.

    Raises :class:`AlreadyUsed` when the token was recorded before (by any process).
    """
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    try:
        with database.session() as session:
            session.execute(delete(UsedLaunch).where(UsedLaunch.expires_at < now))
            session.add(UsedLaunch(digest=digest, expires_at=expires_at))
    except IntegrityError:
        raise AlreadyUsed from None

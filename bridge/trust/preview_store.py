"""The preview's tables: the job with its progress, and one line per user (all SQL of the preview)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from bridge.codes import PreviewState
from bridge.models import LmsUser, PreviewJob, PreviewUser

STALE = timedelta(minutes=30)  # a running job not updated for this long died with its process


@dataclass(frozen=True)
class PreviewLine:
    user_id: str
    name: str | None
    email: str | None
    entries: int
    reason: str | None
    detail: str | None


@dataclass(frozen=True)
class PreviewSummary:
    """The job and its totals so far: entries to make, users who get some, users left out by reason."""

    state: str
    started_at: datetime
    finished_at: datetime | None
    total: int
    done: int
    error: str | None
    entries: int
    users_with_entries: int
    left_out: dict[str, int]
    deadlines: int = 0  # of the entries to make, how many are deadlines'

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())


def start(session: Session, account_id: str, user_id: str, now: datetime) -> bool:
    """Begin a new preview (earlier lines dropped); False when one is already running."""
    job = session.get(PreviewJob, account_id, with_for_update=True)
    if job is not None and job.state == PreviewState.RUNNING and job.started_at > now - STALE:
        return False
    total = session.execute(select(func.count()).select_from(LmsUser).where(
        LmsUser.account_id == account_id, LmsUser.deleted.is_(False))).scalar_one()
    session.execute(delete(PreviewUser).where(PreviewUser.account_id == account_id))
    if job is None:
        job = PreviewJob(account_id=account_id)
        session.add(job)
    job.state, job.started_by, job.started_at, job.finished_at = PreviewState.RUNNING, user_id, now, None
    job.total, job.done, job.error = int(total), 0, None
    return True


def user_ids(session: Session, account_id: str) -> list[str]:
    """Every LMS user of the account to preview."""
    return list(session.scalars(select(LmsUser.id).where(LmsUser.account_id == account_id,
                                                         LmsUser.deleted.is_(False)).order_by(LmsUser.id)))


def add_lines(session: Session, account_id: str,
              lines: list[tuple[str, int, str | None, str | None, int]]) -> None:
    """Store ``(user id, entries, reason, detail, of which deadlines)`` lines and advance the job's progress."""
    if lines:
        session.execute(insert(PreviewUser), [
            {"account_id": account_id, "user_id": u, "entries": n, "reason": r, "detail": d, "deadlines": k}
            for u, n, r, d, k in lines])
    session.execute(update(PreviewJob).where(PreviewJob.account_id == account_id)
                    .values(done=PreviewJob.done + len(lines)))


def finish(session: Session, account_id: str, now: datetime, error: str | None = None) -> None:
    session.execute(update(PreviewJob).where(PreviewJob.account_id == account_id)
                    .values(state=PreviewState.FAILED if error else PreviewState.DONE, finished_at=now, error=error))


def _lines() -> Any:
    return (select(PreviewUser.user_id, LmsUser.name, LmsUser.email, PreviewUser.entries, PreviewUser.reason,
                   PreviewUser.detail)
            .outerjoin(LmsUser, (LmsUser.account_id == PreviewUser.account_id) & (LmsUser.id == PreviewUser.user_id)))


def summary(session: Session, account_id: str) -> PreviewSummary | None:
    """The account's latest preview, or None when none was made."""
    job = session.get(PreviewJob, account_id)
    if job is None:
        return None
    entries, with_entries, deadlines = session.execute(
        select(func.coalesce(func.sum(PreviewUser.entries), 0), func.count().filter(PreviewUser.entries > 0),
               func.coalesce(func.sum(PreviewUser.deadlines), 0))
        .where(PreviewUser.account_id == account_id)).one()
    left_out = {str(reason): int(n) for reason, n in session.execute(
        select(PreviewUser.reason, func.count()).where(PreviewUser.account_id == account_id,
                                                       PreviewUser.reason.is_not(None))
        .group_by(PreviewUser.reason).order_by(func.count().desc()))}
    return PreviewSummary(job.state, job.started_at, job.finished_at, job.total, job.done, job.error,
                          int(entries), int(with_entries), left_out, int(deadlines))


def left_out(session: Session, account_id: str, *, offset: int = 0, limit: int = 50) -> tuple[list[PreviewLine], int]:
    """One page of the users who would be left out (ordered by reason, then name), and their number."""
    where = (PreviewUser.account_id == account_id, PreviewUser.reason.is_not(None))
    total = session.execute(select(func.count()).select_from(PreviewUser).where(*where)).scalar_one()
    rows = session.execute(_lines().where(*where).order_by(PreviewUser.reason, LmsUser.name, PreviewUser.user_id)
                           .offset(offset).limit(limit)).all()
    return [PreviewLine(*r) for r in rows], int(total)


def every_line(session: Session, account_id: str, *, offset: int, limit: int) -> list[PreviewLine]:
    """Every user's line (for the CSV), ordered by user id."""
    rows = session.execute(_lines().where(PreviewUser.account_id == account_id).order_by(PreviewUser.user_id)
                           .offset(offset).limit(limit)).all()
    return [PreviewLine(*r) for r in rows]

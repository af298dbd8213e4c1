"""The records behind the Outlook-side check (:mod:`bridge.outlook_check.check`): which mailboxes are due,
each one's place in its ``calendarView/delta`` round, the entries a check may judge, what users did
in Outlook (the account's choice for a moved entry is one of its settings: bridge.lms.settings)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.orm import Session

from bridge import codes
from bridge.codes import ConnectionState, EntryState, MovedChoice
from bridge.models import Connection, Entry, OutlookChange, OutlookCheck
from bridge.queue import dirty_keys


@dataclass
class Box:
    """A mailbox holding entries of a connected account, with its delta round (``link`` None: none yet)."""

    account_id: str
    tenant_id: str
    mailbox_id: str
    link: str | None
    mid_round: bool
    window_start: datetime | None
    window_end: datetime | None
    round_started_at: datetime | None


@dataclass(frozen=True)
class Judged:
    """An entry a check may judge: recorded active with a known id, not being written right now."""

    user_id: str
    event_id: str
    session_id: str
    graph_event_id: str
    starts_at: datetime
    ends_at: datetime


def due(session: Session, limit: int) -> list[Box]:
    """Up to ``limit`` mailboxes holding active entries of connected accounts, never checked or
    checked longest ago first."""
    holding = (select(Entry.account_id, Entry.tenant_id, Entry.mailbox_id)
               .join(Connection, and_(Connection.account_id == Entry.account_id,
                                      Connection.tenant_id == Entry.tenant_id,
                                      Connection.state == ConnectionState.CONNECTED))
               .where(Entry.state == EntryState.ACTIVE).distinct().subquery())
    rows = session.execute(
        select(holding.c.account_id, holding.c.tenant_id, holding.c.mailbox_id, OutlookCheck)
        .outerjoin(OutlookCheck, and_(OutlookCheck.account_id == holding.c.account_id,
                                      OutlookCheck.mailbox_id == holding.c.mailbox_id))
        .order_by(OutlookCheck.checked_at.asc().nulls_first(), holding.c.mailbox_id).limit(limit)).all()
    boxes = []
    for account_id, tenant_id, mailbox_id, check in rows:
        same = check is not None and check.tenant_id == tenant_id
        boxes.append(Box(account_id, tenant_id, mailbox_id, check.link if same else None,
                         same and check.mid_round, check.window_start if same else None,
                         check.window_end if same else None, check.round_started_at if same else None))
    return boxes


def save_rounds(session: Session, boxes: list[Box], checked_at: datetime) -> None:
    """Keep where each mailbox's round stands (its next link) for the next check, whatever the process
    (one delete and one insert for them all)."""
    for account_id in {b.account_id for b in boxes}:
        session.execute(delete(OutlookCheck).where(OutlookCheck.account_id == account_id, OutlookCheck.mailbox_id.in_(
            [b.mailbox_id for b in boxes if b.account_id == account_id])))
    session.execute(insert(OutlookCheck), [
        {"account_id": b.account_id, "mailbox_id": b.mailbox_id, "tenant_id": b.tenant_id, "link": b.link,
         "mid_round": b.mid_round, "window_start": b.window_start, "window_end": b.window_end,
         "round_started_at": b.round_started_at, "checked_at": checked_at} for b in boxes])


def judged(session: Session, boxes: list[Box], before: datetime) -> dict[tuple[str, str], dict[str, Judged]]:
    """The entries a check may judge in these mailboxes, by (account, mailbox) then Graph id: active,
    id and hash known (not in flight), and not written since ``before`` (what Graph answered may
    predate that write). One query per account."""
    found: dict[tuple[str, str], dict[str, Judged]] = {(b.account_id, b.mailbox_id): {} for b in boxes}
    for account_id in {b.account_id for b in boxes}:
        rows = session.execute(select(
            Entry.mailbox_id, Entry.tenant_id, Entry.user_id, Entry.event_id, Entry.session_id, Entry.graph_event_id,
            Entry.starts_at, Entry.ends_at).where(
            Entry.account_id == account_id, Entry.mailbox_id.in_([b.mailbox_id for b in boxes
                                                                  if b.account_id == account_id]),
            Entry.state == EntryState.ACTIVE, Entry.graph_event_id.is_not(None), Entry.payload_hash.is_not(None),
            Entry.updated_at < before))
        tenants = {b.mailbox_id: b.tenant_id for b in boxes if b.account_id == account_id}
        for row in rows:
            if row.graph_event_id and tenants.get(row.mailbox_id) == row.tenant_id:
                found[(account_id, row.mailbox_id)][row.graph_event_id] = Judged(
                    row.user_id, row.event_id, row.session_id, row.graph_event_id, row.starts_at, row.ends_at)
    return found


def record_deleted(session: Session, account_id: str, entry: Judged, now: datetime) -> None:
    """The user deleted the entry: it stays gone until a material change (docs/BEHAVIOUR.md §9)."""
    session.execute(update(Entry).where(
        Entry.account_id == account_id, Entry.user_id == entry.user_id, Entry.event_id == entry.event_id,
        Entry.session_id == entry.session_id, Entry.graph_event_id == entry.graph_event_id,
    ).values(state=EntryState.DELETED_IN_OUTLOOK, graph_event_id=None, payload_hash=None))
    session.merge(OutlookChange(account_id=account_id, user_id=entry.user_id, event_id=entry.event_id,
                                session_id=entry.session_id, kind=codes.OutlookChange.DELETED, seen_at=now,
                                starts_at=None, ends_at=None))


def record_moved(session: Session, account_id: str, entry: Judged, starts_at: datetime, ends_at: datetime,
                 now: datetime, choice: MovedChoice) -> bool:
    """The user moved the entry; put back (its hash cleared, the user queued: the next pass updates
    it to the LMS's time) or left, as the account chose. Returns False when this move was already
    recorded and left (a new round lists a left entry again)."""
    key = (account_id, entry.user_id, entry.event_id, entry.session_id)
    known = session.get(OutlookChange, key)
    if choice == MovedChoice.LEAVE and known is not None and known.kind == codes.OutlookChange.MOVED and (
            known.starts_at, known.ends_at) == (starts_at, ends_at):
        return False
    session.merge(OutlookChange(account_id=account_id, user_id=entry.user_id, event_id=entry.event_id,
                                session_id=entry.session_id, kind=codes.OutlookChange.MOVED, seen_at=now,
                                starts_at=starts_at, ends_at=ends_at))
    if choice == MovedChoice.PUT_BACK:
        session.execute(update(Entry).where(
            Entry.account_id == account_id, Entry.user_id == entry.user_id, Entry.event_id == entry.event_id,
            Entry.session_id == entry.session_id, Entry.graph_event_id == entry.graph_event_id,
        ).values(payload_hash=None))
        dirty_keys.mark_dirty(session, account_id, [entry.user_id], now, lane=dirty_keys.Lane.BULK)
    return True


def latest_changes(session: Session, account_id: str, user_ids: Iterable[str]) -> dict[str, tuple[str, datetime]]:
    """Each user's latest Outlook-side change: (a :class:`~bridge.codes.OutlookChange`, when seen)."""
    wanted = list(user_ids)
    latest: dict[str, tuple[str, datetime]] = {}
    for start in range(0, len(wanted), 500):
        for user_id, kind, seen_at in session.execute(select(
                OutlookChange.user_id, OutlookChange.kind, OutlookChange.seen_at).where(
                OutlookChange.account_id == account_id, OutlookChange.user_id.in_(wanted[start:start + 500]))):
            if user_id not in latest or latest[user_id][1] < seen_at:
                latest[user_id] = (kind, seen_at)
    return latest

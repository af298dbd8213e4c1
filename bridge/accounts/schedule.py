"""The periodic full pass: which users of an account to queue, and when the next full pass is due.

Owns the full pass's clock, ``connections.full_reconcile_at`` (when the account's last full pass
began); everything else of the connection row is the state machine's (:mod:`bridge.accounts.connection`).
Users are queued through :mod:`bridge.queue.dirty_keys`, in the caller's transaction, in its bulk lane:
an account's whole backlog never delays another account's fresh changes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import Session

from bridge import codes
from bridge.models import Connection, Entry, LmsUser, UserState
from bridge.queue import dirty_keys


def mark_everyone(session: Session, account_id: str) -> int:
    """Queue every user the account knows of (LMS users and holders of entries); returns how many."""
    users = union(select(LmsUser.id).where(LmsUser.account_id == account_id),
                  select(Entry.user_id).where(Entry.account_id == account_id))
    return dirty_keys.mark_dirty(session, account_id, [u for (u,) in session.execute(users)],
                                 lane=dirty_keys.Lane.BULK)


def mark_due(session: Session, account_id: str, since: datetime | None, now: datetime) -> int:
    """The periodic full pass: queue only the users whose inputs may have changed without a change
    marking them — selected in SQL, nobody else is read or planned.

    A change in the LMS (hooks), in the account's settings (the reminder) or in the tenant's domains
    (:func:`bridge.accounts.connection.domains_changed`) queues its users in its own transaction. What
    changes by itself is time: users holding an entry whose session started or ended in (``since``,
    ``now``] are queued; so are users whose last pass failed (the mailbox may work now) and users never
    passed. With no earlier full pass (``since`` None) everyone is queued. Returns how many were.
    """
    if since is None:
        return mark_everyone(session, account_id)
    window = or_(and_(Entry.starts_at > since, Entry.starts_at <= now),
                 and_(Entry.ends_at > since, Entry.ends_at <= now))
    users = union(
        select(Entry.user_id).where(Entry.account_id == account_id, window),
        select(UserState.user_id).where(UserState.account_id == account_id,
                                        UserState.state == codes.UserState.FAILED),
        select(LmsUser.id).outerjoin(UserState, and_(UserState.account_id == LmsUser.account_id,
                                                     UserState.user_id == LmsUser.id))
        .where(LmsUser.account_id == account_id, LmsUser.deleted.is_(False), UserState.user_id.is_(None)))
    return dirty_keys.mark_dirty(session, account_id, [u for (u,) in session.execute(users)], now,
                                 lane=dirty_keys.Lane.BULK)


def start_due(session: Session, every: timedelta, now: datetime) -> list[str]:
    """Begin the full pass of every connected account whose last one began ``every`` ago or more, or
    never (:func:`mark_due` since then); returns those accounts. Only they are loaded."""
    due = session.scalars(select(Connection).where(
        Connection.state == codes.ConnectionState.CONNECTED,
        or_(Connection.full_reconcile_at.is_(None), Connection.full_reconcile_at <= now - every)))
    started = []
    for row in due:
        mark_due(session, row.account_id, row.full_reconcile_at, now)
        row.full_reconcile_at = now
        started.append(row.account_id)
    return started


def everyone_now(session: Session, account_id: str, now: datetime) -> int:
    """Queue everyone as the account's full pass begun at ``now`` (when it is connected: the next
    full pass is one period later), in the bulk lane with whatever hooks queued before (the switch-on:
    nothing was synced yet); returns how many were queued."""
    row = session.get(Connection, account_id)
    if row is not None:
        row.full_reconcile_at = now
    dirty_keys.to_bulk(session, account_id)
    return mark_everyone(session, account_id)

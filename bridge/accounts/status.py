"""Per-user sync state of an account, with reasons and counts (the page and ``outlook-sync status``).

A user waiting in the queue is *pending* (or *retrying* after a failure); otherwise the state is the
outcome of their last pass. Filtering, counting and paging happen in SQL, so 10,000 users stay fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from bridge import codes
from bridge.codes import WORKING_STATES, ConnectionState, Reason
from bridge.lms.views import DEADLINE_SESSION
from bridge.models import Account, Connection, DirtyKey, Entry, LmsUser, UserState

# Failures that someone can fix outside the LMS (move the mailbox to Exchange Online, change the
# application access policy, add the user to the Exchange scope's group, create the user in Azure AD),
# or that were unexpected: after the fix, a pass now helps. A skip (personal or unverified domain,
# inactive, no session chosen…) changes only when the LMS or the tenant's domains change, and such a
# change is synced by itself.
RETRY_HELPS = frozenset({Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE, Reason.ACCESS_DENIED_BY_POLICY,
                         Reason.OUTSIDE_EXCHANGE_SCOPE, Reason.USER_NOT_FOUND, Reason.ERROR})


@dataclass(frozen=True)
class UserRow:
    user_id: str
    name: str | None
    email: str | None
    state: str
    reason: str | None
    detail: str | None
    entries: int
    changed_at: datetime | None
    deadlines: int = 0  # of the entries, how many are deadlines'


def deadline_entries(session: Session, account_id: str, user_ids: list[str]) -> dict[str, int]:
    """How many of each user's entries in Outlook are deadlines' (users with none left out): one
    grouped query over the entries' key."""
    if not user_ids:
        return {}
    rows = session.execute(select(Entry.user_id, func.count()).where(
        Entry.account_id == account_id, Entry.user_id.in_(user_ids), Entry.session_id == DEADLINE_SESSION,
        Entry.state == codes.EntryState.ACTIVE).group_by(Entry.user_id))
    return {user_id: int(n) for user_id, n in rows}


def retry_helps(state: str, reason: str | None) -> bool:
    """Whether retrying one user now can change anything: a user waiting for a retry (it runs at once
    instead of after its back-off) or failed for a reason in :data:`RETRY_HELPS`; never a user who is
    synced, skipped or already pending."""
    return state == codes.UserState.RETRYING or (
        state == codes.UserState.FAILED and (reason is None or reason in RETRY_HELPS))


def _rows(account_id: str) -> Select[Any]:
    state = case(
        (and_(DirtyKey.user_id.is_not(None), DirtyKey.attempts > 0), codes.UserState.RETRYING.value),
        (DirtyKey.user_id.is_not(None), codes.UserState.PENDING.value),
        (UserState.state.is_not(None), UserState.state),
        else_=codes.UserState.PENDING.value,
    ).label("state")
    return (
        select(LmsUser.id, LmsUser.name, LmsUser.email, state, UserState.reason,
               func.coalesce(DirtyKey.last_error, UserState.detail).label("detail"),
               func.coalesce(UserState.entries, 0).label("entries"), UserState.changed_at)
        .outerjoin(UserState, and_(UserState.account_id == LmsUser.account_id, UserState.user_id == LmsUser.id))
        .outerjoin(DirtyKey, and_(DirtyKey.account_id == LmsUser.account_id, DirtyKey.user_id == LmsUser.id))
        .where(LmsUser.account_id == account_id, LmsUser.deleted.is_(False))
    )


def user(session: Session, account_id: str, user_id: str) -> UserRow | None:
    """One user's row, as :func:`users` gives it; None when the account has no such user (or it was deleted)."""
    found = session.execute(_rows(account_id).where(LmsUser.id == user_id)).first()
    if found is None:
        return None
    return UserRow(found.id, found.name, found.email, found.state, found.reason, found.detail, found.entries,
                   found.changed_at, deadline_entries(session, account_id, [user_id]).get(user_id, 0))


def counts(session: Session, account_id: str) -> dict[str, int]:
    """How many users are in each state (every :class:`~bridge.codes.UserState` present, zero or not)."""
    inner = _rows(account_id).subquery()
    grouped = select(inner.c.state, func.count()).group_by(inner.c.state)
    found: dict[str, int] = {state: n for state, n in session.execute(grouped)}
    return {state: int(found.get(state, 0)) for state in codes.UserState}


def users(session: Session, account_id: str, *, state: str | None = None, search: str | None = None,
          offset: int = 0, limit: int = 50) -> tuple[list[UserRow], int]:
    """One page of users (ordered by name) and the total matching the filter."""
    inner = _rows(account_id).subquery()
    query = select(inner)
    if state:
        query = query.where(inner.c.state == state)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(func.lower(inner.c.name).like(pattern), func.lower(inner.c.email).like(pattern)))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = session.execute(query.order_by(inner.c.name, inner.c.id).offset(offset).limit(limit)).all()
    deadlines = deadline_entries(session, account_id, [r.id for r in page])
    return [UserRow(r.id, r.name, r.email, r.state, r.reason, r.detail, r.entries, r.changed_at,
                    deadlines.get(r.id, 0)) for r in page], int(total)


@dataclass(frozen=True)
class Backlog:
    """The work queue and the accounts at one instant (for the metrics scraped from any process)."""

    waiting: int  # users marked for a pass, in accounts that are being worked
    oldest_age: float  # seconds the longest-waiting user that is due has waited; 0 if none is due
    accounts: dict[str, int]  # accounts by connection state (states with none left out; no connection: disconnected)


def backlog(session: Session, now: datetime) -> Backlog:
    """Read the :class:`Backlog` with two aggregate queries (no row is loaded)."""
    working = (select(func.count(), func.min(case((DirtyKey.due_at <= now, DirtyKey.due_at))))
               .join(Connection, Connection.account_id == DirtyKey.account_id)
               .where(Connection.state.in_(WORKING_STATES)))
    waiting, oldest = session.execute(working).one()
    state = func.coalesce(Connection.state, literal_column(f"'{ConnectionState.DISCONNECTED.value}'"))
    grouped = (select(state, func.count()).select_from(Account)
               .outerjoin(Connection, Connection.account_id == Account.id).group_by(state))
    states = {state: int(count) for state, count in session.execute(grouped)}
    age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    return Backlog(int(waiting), age, states)


def names(session: Session, account_id: str, user_ids: list[str | None]) -> dict[str, str]:
    """The LMS names of these users (those that have one)."""
    wanted = [u for u in user_ids if u]
    if not wanted:
        return {}
    rows = session.execute(select(LmsUser.id, LmsUser.name).where(LmsUser.account_id == account_id,
                                                                  LmsUser.id.in_(wanted)))
    return {user_id: name for user_id, name in rows if name}


def future_entries(session: Session, account_id: str, now: datetime) -> int:
    """How many entries the plugin made for the account that have not ended yet."""
    return int(session.execute(select(func.count()).select_from(Entry).where(
        Entry.account_id == account_id, Entry.ends_at > now)).scalar_one())


@dataclass(frozen=True)
class AccountRow:
    id: str
    state: str | None
    tenant_id: str | None
    reason: str | None


def accounts(session: Session) -> list[AccountRow]:
    """Every account with its connection's state, tenant and reason, by id."""
    rows = session.execute(select(Account.id, Connection.state, Connection.tenant_id, Connection.reason)
                           .outerjoin(Connection, Connection.account_id == Account.id).order_by(Account.id))
    return [AccountRow(*row) for row in rows]

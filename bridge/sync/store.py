"""Reads and writes the sync needs: the account's context, a user's LMS view, entries made.

The reconciler and worker go through these functions only, so the SQL of the sync lives here.
"""
from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    DateTime,
    Executable,
    Float,
    String,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session

from bridge.codes import ConnectionState, EntryState
from bridge.db import Upsert
from bridge.db import among as _among
from bridge.lms import settings
from bridge.lms import views as lms
from bridge.lms.settings import AccountSettings
from bridge.models import (
    Connection,
    DirectoryEntry,
    Entry,
    LatencySample,
    LmsDeadline,
    LmsEnrollment,
    LmsEvent,
    LmsLearnerDeadline,
    LmsSession,
    LmsUser,
    UserState,
    UTCDateTime,
    utcnow,
)
from bridge.queue import held_keys
from bridge.queue.dirty_keys import Claim
from bridge.sync.reconcile import Desired, Key, Made

FOUND_TTL = timedelta(hours=24)
NOT_FOUND_TTL = timedelta(minutes=5)  # a deleted user may be restored (same id): ask again soon
LATENCY_WINDOW = timedelta(hours=1)  # latency samples kept for the health panel (bridge.trust.health)


@dataclass(frozen=True)
class AccountContext:
    """What a pass needs of its account: the connection's state and tenant, the tenant's verified
    domains (None: unknown), and the account's settings."""

    account_id: str
    state: ConnectionState
    tenant_id: str | None
    verified_domains: tuple[str, ...] | None
    settings: AccountSettings

    @property
    def disconnecting(self) -> bool:
        """Removing the account's future entries before it is disconnected (a pass removes them all)."""
        return self.state == ConnectionState.DISCONNECTING


def account_context(session: Session, account_id: str) -> AccountContext | None:
    """The account's context, in one query; None when the account or its connection is not there."""
    row = session.execute(_account_context(), {"account": account_id}).first()
    if row is None:
        return None
    domains = tuple(row.verified_domains) if row.verified_domains is not None else None
    return AccountContext(account_id, ConnectionState(row.state), row.tenant_id, domains, settings.from_row(row))


@functools.cache
def _account_context() -> Executable:
    return settings.joined(select(Connection.state, Connection.tenant_id, Connection.verified_domains),
                           Connection.account_id).where(Connection.account_id == bindparam("account"))


def _event(row: Any, sessions: list[Any]) -> lms.Event:
    return lms.Event(
        id=row.id, title=row.title or "", timezone=row.timezone or "UTC", organizer_id=row.organizer_id,
        description=row.description, url=row.url, location=row.location, online_url=row.online_url,
        cancelled=row.cancelled,
        sessions=tuple(
            lms.Session(id=s.id, event_id=s.event_id, position=s.position, start=s.start, end=s.end,
                        title=s.title, location=s.location, online_url=s.online_url)
            for s in sorted(sessions, key=lambda s: (s.position, s.start))
        ),
    )


def user_view(session: Session, account_id: str, user_id: str) -> lms.UserView:
    """The user, every live event they organize or are enrolled in, and their enrollments."""
    return user_views(session, account_id, [user_id])[user_id]


def _made(row: Any) -> Made:
    return Made(key=(row.event_id, row.session_id), mailbox_id=row.mailbox_id, graph_event_id=row.graph_event_id,
                transaction_id=row.transaction_id, state=EntryState(row.state), payload_hash=row.payload_hash,
                material_hash=row.material_hash, ends_at=row.ends_at, tag=row.tag)


def set_user_state(session: Session, account_id: str, user_id: str, state: str,
                   reason: str | None = None, detail: str | None = None) -> None:
    """Record one user's sync state."""
    set_user_states(session, account_id, {user_id: (state, reason, detail)})


def cache_mailbox(session: Session, account_id: str, tenant_id: str, address: str,
                  graph_user_id: str | None, now: datetime) -> None:
    ttl = FOUND_TTL if graph_user_id else NOT_FOUND_TTL
    session.merge(DirectoryEntry(account_id=account_id, tenant_id=tenant_id, address=address.lower(),
                                 graph_user_id=graph_user_id, expires_at=now + ttl))


def _rows(session: Session, statement: Executable, **values: Any) -> list[Any]:
    """Plain rows (attribute access by column name) rather than ORM objects: many, read once."""
    return list(session.execute(statement, values))


def _columns(model: Any) -> Any:
    return cast(Table, model.__table__).c


def _every(model: Any, *where: Any) -> Executable:
    """Every column of ``model``'s table where ``account_id`` is ``:account`` and ``where`` hold: a Core
    statement, built once by its caller (:func:`_reads`) and executed with values."""
    c = _columns(model)
    return select(*c).where(c.account_id == bindparam("account"), *where)


def _reads(session: Session) -> dict[str, Executable]:
    """The pass's reads for the session's database, built once (:func:`_built_reads`)."""
    return _built_reads(session.get_bind().dialect.name == "postgresql")


@functools.cache
def _built_reads(postgresql: bool) -> dict[str, Executable]:
    """The pass's reads, built once: building a statement costs more than running it (BENCHMARKS.md, B1)."""
    def among(column: Any, name: str) -> Any:
        return _among(column, name, postgresql)

    users, enrollments, events = _columns(LmsUser), _columns(LmsEnrollment), _columns(LmsEvent)
    sessions, learner, deadline = _columns(LmsSession), _columns(LmsLearnerDeadline), _columns(LmsDeadline)
    entry, directory, state = _columns(Entry), _columns(DirectoryEntry), _columns(UserState)
    return {
        "users": _every(LmsUser, among(users.id, "users")),
        "enrollments": _every(LmsEnrollment, among(enrollments.user_id, "users"), enrollments.deleted.is_(False)),
        "events": _every(LmsEvent, events.deleted.is_(False),
                         among(events.organizer_id, "users") | among(events.id, "events")),
        "sessions": _every(LmsSession, among(sessions.event_id, "events")),
        "learner_deadlines": _every(LmsLearnerDeadline, among(learner.user_id, "users"),
                                    learner.deleted.is_(False)),
        "deadlines": _every(LmsDeadline, among(deadline.id, "deadlines"), deadline.deleted.is_(False)),
        "entries": _every(Entry, among(entry.user_id, "users")),
        "sharers": select(users.id, func.lower(users.email)).where(
            users.account_id == bindparam("account"), among(func.lower(users.email), "addresses"),
            users.deleted.is_(False), users.active.is_(True)),
        "directory": select(directory.address, directory.graph_user_id).where(
            directory.account_id == bindparam("account"), directory.tenant_id == bindparam("tenant"),
            among(directory.address, "addresses"), directory.expires_at > bindparam("now")),
        "states": select(state.user_id, state.state, state.reason, state.entries).where(
            state.account_id == bindparam("account"), among(state.user_id, "users")),
    }


def user_views(session: Session, account_id: str, user_ids: list[str]) -> dict[str, lms.UserView]:
    """:func:`user_view` for many users with one query per table."""
    reads = _reads(session)
    users = {u.id: u for u in _rows(session, reads["users"], account=account_id, users=user_ids)}
    enrollments: dict[str, list[Any]] = {u: [] for u in user_ids}
    for e in _rows(session, reads["enrollments"], account=account_id, users=user_ids):
        enrollments[e.user_id].append(e)
    event_ids = sorted({e.event_id for rows in enrollments.values() for e in rows})
    events = {e.id: e for e in _rows(session, reads["events"], account=account_id, users=user_ids, events=event_ids)}
    sessions: dict[str, list[Any]] = {e: [] for e in events}
    if events:
        for s in _rows(session, reads["sessions"], account=account_id, events=list(events)):
            sessions[s.event_id].append(s)
    built = {e.id: _event(e, sessions[e.id]) for e in events.values()}
    organized: dict[str, set[str]] = {}
    for e in events.values():
        organized.setdefault(e.organizer_id, set()).add(e.id)
    deadlines = deadlines_of(session, account_id, user_ids)
    views = {}
    for uid in user_ids:
        row = users.get(uid)
        user = lms.User(id=uid, email=row.email, active=row.active, name=row.name) \
            if row is not None and not row.deleted else None
        mine = {e.event_id for e in enrollments[uid]} | organized.get(uid, set())
        views[uid] = lms.UserView(
            user_id=uid, user=user, events={eid: built[eid] for eid in mine if eid in built},
            enrollments=tuple(lms.Enrollment(e.event_id, e.session_id) for e in enrollments[uid]),
            deadlines=deadlines.get(uid, ()))
    return views


def deadlines_of(session: Session, account_id: str, user_ids: list[str]) -> dict[str, tuple[lms.LearnerDeadline, ...]]:
    """The live deadlines that apply to each of these users (their own due time and done), in two
    queries; a row naming a deadline not (or no longer) stored is left out until it arrives."""
    rows = _rows(session, _reads(session)["learner_deadlines"], account=account_id, users=user_ids)
    ids = sorted({r.deadline_id for r in rows})
    known = {d.id: lms.Deadline(id=d.id, title=d.title or "", timezone=d.timezone or "UTC", due=d.due,
                                description=d.description, url=d.url)
             for d in (_rows(session, _reads(session)["deadlines"], account=account_id, deadlines=ids) if ids else [])}
    found: dict[str, list[lms.LearnerDeadline]] = {}
    for r in sorted(rows, key=lambda r: r.deadline_id):
        if r.deadline_id in known:
            found.setdefault(r.user_id, []).append(lms.LearnerDeadline(known[r.deadline_id], r.due, r.done))
    return {uid: tuple(items) for uid, items in found.items()}


def sharers(session: Session, account_id: str, addresses: list[str]) -> dict[str, list[str]]:
    """Active LMS users by address (lower-cased), for addresses that more than one of them carries:
    several LMS accounts of one person share one mailbox."""
    lowered = sorted({a.lower() for a in addresses})
    found: dict[str, list[str]] = {}
    if lowered:
        for user_id, address in _rows(session, _reads(session)["sharers"], account=account_id, addresses=lowered):
            found.setdefault(address, []).append(user_id)
    return {address: sorted(ids) for address, ids in found.items() if len(ids) > 1}


def made_entries_of(session: Session, account_id: str, user_ids: list[str]) -> dict[str, dict[Key, Made]]:
    """The records of the entries made for these users, by user and key, in one query."""
    found: dict[str, dict[Key, Made]] = {u: {} for u in user_ids}
    for row in _rows(session, _reads(session)["entries"], account=account_id, users=user_ids):
        found[row.user_id][(row.event_id, row.session_id)] = _made(row)
    return found


def cached_mailboxes(session: Session, account_id: str, tenant_id: str, addresses: list[str],
                     now: datetime) -> dict[str, str | None]:
    """Unexpired directory look-ups for these addresses (lower-cased): Graph id, or None if not found."""
    rows = _rows(session, _reads(session)["directory"], account=account_id, tenant=tenant_id,
                 addresses=sorted({a.lower() for a in addresses}), now=now)
    return {r.address: r.graph_user_id for r in rows}


def entry_row(account_id: str, user_id: str, tenant_id: str, mailbox_id: str, desired: Desired, *, state: str,
              transaction_id: str, graph_event_id: str | None = None,
              payload_hash: str | None = None) -> dict[str, object]:
    """The columns of one entry record, for :func:`upsert_entries`."""
    return {"account_id": account_id, "user_id": user_id, "event_id": desired.key[0], "session_id": desired.key[1],
            "tenant_id": tenant_id, "mailbox_id": mailbox_id, "graph_event_id": graph_event_id,
            "transaction_id": transaction_id, "tag": desired.tag, "state": state, "payload_hash": payload_hash,
            "material_hash": desired.material_hash, "starts_at": desired.starts_at, "ends_at": desired.ends_at,
            "updated_at": utcnow()}


_ENTRY_KEYS = ("account_id", "user_id", "event_id", "session_id")
_ENTRY_COLUMNS = ("tenant_id", "mailbox_id", "graph_event_id", "transaction_id", "tag", "state", "payload_hash",
                  "material_hash", "starts_at", "ends_at", "updated_at")
_UPSERT_ENTRIES = Upsert(Entry, conflict=_ENTRY_KEYS, update=_ENTRY_COLUMNS)


def upsert_entries(session: Session, rows: list[dict[str, object]]) -> None:
    """Insert or replace entry records (one statement, executed for many rows; every column of
    :func:`entry_row` given)."""
    if rows:
        session.execute(_UPSERT_ENTRIES.statement(session), rows)


@functools.cache
def _entry_update(*columns: str) -> Executable:
    table = cast(Table, Entry.__table__)
    return update(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in _ENTRY_KEYS)).values(
        {c: bindparam(c) for c in columns})


def mark_in_flight(session: Session, account_id: str, *, updates: list[tuple[str, Key]],
                   deletions: list[tuple[str, Key]]) -> None:
    """Entry records of writes about to be sent: an update's payload hash cleared; a deletion's entry
    ``creating`` again, with no event id (found by its tag from now on) and a fresh transactionId
    (see :meth:`bridge.sync.run.Pass._record`)."""
    def pk(user_id: str, key: Key) -> dict[str, object]:
        return {"k_account_id": account_id, "k_user_id": user_id, "k_event_id": key[0], "k_session_id": key[1]}

    if updates:
        session.execute(_entry_update("payload_hash"), [{**pk(u, k), "payload_hash": None} for u, k in updates])
    if deletions:
        session.execute(_entry_update("state", "graph_event_id", "transaction_id"), [
            {**pk(u, k), "state": EntryState.CREATING, "graph_event_id": None, "transaction_id": str(uuid.uuid4())}
            for u, k in deletions])


def move_entries(session: Session, account_id: str, moves: list[tuple[str, Key, str]]) -> None:
    """Record (user id, key, mailbox): these entries' mailbox is now known by its Graph user id
    rather than the address they were made under (one statement, executed for many)."""
    if moves:
        session.execute(_entry_update("mailbox_id"), [
            {"k_account_id": account_id, "k_user_id": u, "k_event_id": k[0], "k_session_id": k[1], "mailbox_id": m}
            for u, k, m in moves])


def drop_entries(session: Session, account_id: str, keys: list[tuple[str, Key]]) -> None:
    """Remove these entry records (one statement, executed for many)."""
    if keys:
        session.execute(_drop_entries(), [{"k_account_id": account_id, "k_user_id": u, "k_event_id": k[0],
                                           "k_session_id": k[1]} for u, k in keys])


@functools.cache
def _drop_entries() -> Executable:
    table = cast(Table, Entry.__table__)
    return delete(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in _ENTRY_KEYS))


def user_states_of(session: Session, account_id: str, user_ids: list[str]) -> dict[str, tuple[str, str | None, int]]:
    """Recorded (state, reason, active entries) of these users."""
    rows = _rows(session, _reads(session)["states"], account=account_id, users=user_ids)
    return {uid: (state, reason, entries) for uid, state, reason, entries in rows}


def _changed_at(table: Table, new: Any) -> dict[str, object]:
    """A state's ``changed_at`` moves only when its state or reason change."""
    moved = (table.c.state != new.state) | (func.coalesce(table.c.reason, "") != func.coalesce(new.reason, ""))
    return {"changed_at": case((moved, new.changed_at), else_=table.c.changed_at)}


_UPSERT_STATES = Upsert(UserState, conflict=("account_id", "user_id"), update=("state", "reason", "detail", "entries"),
                        also=_changed_at)


def set_user_states(session: Session, account_id: str,
                    states: dict[str, tuple[str, str | None, str | None]]) -> None:
    """Record many users' states (one statement); ``changed_at`` moves only when state or reason change."""
    if not states:
        return
    ids = list(states)
    counts: dict[str, int] = {uid: n for uid, n in session.execute(
        select(Entry.user_id, func.count()).where(Entry.account_id == account_id, Entry.user_id.in_(ids),
                                                  Entry.state == EntryState.ACTIVE).group_by(Entry.user_id))}
    now = utcnow()
    session.execute(_UPSERT_STATES.statement(session), [
        {"account_id": account_id, "user_id": uid, "state": state, "reason": reason, "detail": detail,
         "entries": counts.get(uid, 0), "changed_at": now} for uid, (state, reason, detail) in states.items()])


def record_latencies(session: Session, account_id: str, done: list[Claim], started: datetime,
                     now: datetime) -> int:
    """Store a latency sample for each settled key whose pass wrote an entry (call before the keys are
    completed), in one statement that reads them from the queue (``INSERT … SELECT``); drops the
    account's samples older than the window when some were added. Returns the samples stored."""
    if not done:
        return 0
    postgresql = session.get_bind().dialect.name == "postgresql"
    values = {**held_keys.written_values(session, done, started), "now": now}
    added = cast(CursorResult[Any], session.execute(_add_latencies(postgresql), values)).rowcount
    if added:  # the window's older samples go as new ones come: bounded by an hour of settled writes
        session.execute(_forget_latencies(), {"account": account_id, "before": now - LATENCY_WINDOW})
    return added


@functools.cache
def _forget_latencies() -> Executable:
    samples = cast(Table, LatencySample.__table__)
    return delete(samples).where(samples.c.account_id == bindparam("account"),
                                 samples.c.settled_at <= bindparam("before"))


@functools.cache
def _add_latencies(postgresql: bool) -> Executable:
    """A sample per key of :func:`held_keys.written_due`: seconds from its due time to ``:now``, at
    least 0, computed by the database (PostgreSQL's ``extract(epoch …)``, SQLite's ``julianday``)."""
    written, now = held_keys.written_due(postgresql), bindparam("now", type_=UTCDateTime)
    if postgresql:
        seconds: Any = func.greatest(0.0, func.extract("epoch", cast_(now, DateTime) - written.c.due_at))
    else:
        seconds = func.max(0.0, (func.julianday(now) - func.julianday(written.c.due_at)) * 86400.0)
    return insert(cast(Table, LatencySample.__table__)).from_select(
        ["account_id", "settled_at", "seconds"],
        select(bindparam("account", type_=String), now, type_coerce(seconds, Float)).select_from(written)
    ).execution_options(preserve_rowcount=True)  # an INSERT's rowcount is kept only when asked (SQLAlchemy 2)

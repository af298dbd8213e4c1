"""The connection's state machine: where an account's link to its Azure AD tenant stands, and why.

The only writer of the connection's state columns (``connections``: state, tenant, claim, reason,
failures, probe time, verified domains; the full pass's clock is :mod:`bridge.accounts.schedule`'s).
Every transition is a function here, taking the caller's session::

    disconnected ─consent_requested→ consent_pending ─consent_received→ consent_received ─activate→ connected
    consent_pending ─consent_declined→ disconnected
    connected ─suspend→ suspended ─resume→ connected            (the tenant refused us / answers again)
    connected|suspended ─disconnect→ disconnecting ─finish_disconnects→ disconnected   (or at once)

The consent link and its single-use ``state`` are :mod:`bridge.accounts.consent`'s, which calls the
consent transitions. :func:`check_tenant` is the worker's one way to look at a tenant again: the probe
of a suspended one, and the refresh of a connected one's verified domains.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bridge.accounts import schedule
from bridge.codes import ConnectionState, ConsentReason
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.lms import grant
from bridge.lms.ingest import ensure_account
from bridge.models import Connection, Entry
from bridge.queue import dirty_keys, retry


class NotReady(Exception):
    """An action is not possible in the connection's current state; ``reason`` says why."""

    def __init__(self, reason: ConsentReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def connection(session: Session, account_id: str) -> Connection:
    """The account's connection row, created (disconnected) on first use."""
    ensure_account(session, account_id)
    row = session.get(Connection, account_id)
    if row is None:
        row = Connection(account_id=account_id, state=ConnectionState.DISCONNECTED, failures=0)
        session.add(row)
        session.flush()
    return row


def consent_requested(session: Session, account_id: str, user_id: str, now: datetime) -> None:
    """A consent link was issued by ``user_id``: consent is pending unless the account is further on."""
    row = connection(session, account_id)
    if row.state in (ConnectionState.DISCONNECTED, ConnectionState.CONSENT_PENDING, ConnectionState.CONSENT_RECEIVED):
        row.state = ConnectionState.CONSENT_PENDING
    row.requested_by, row.requested_at = user_id, now


def consent_declined(session: Session, account_id: str) -> None:
    """The administrator declined the pending consent: back to disconnected."""
    row = connection(session, account_id)
    if row.state == ConnectionState.CONSENT_PENDING:
        row.state = ConnectionState.DISCONNECTED


def consent_received(session: Session, account_id: str, tenant_id: str, now: datetime) -> None:
    """The administrator consented for ``tenant_id``: kept as a claim until Connect integration proves it."""
    row = connection(session, account_id)
    row.claimed_tenant_id, row.consent_at, row.state = tenant_id, now, ConnectionState.CONSENT_RECEIVED


def tenant_to_prove(session: Session, account_id: str) -> str:
    """The tenant Connect integration proves: the claimed one, else the account's own.

    Raises :class:`NotReady` before consent (or while disconnecting).
    """
    row = connection(session, account_id)
    tenant = row.claimed_tenant_id or row.tenant_id
    if tenant is None or row.state in (ConnectionState.DISCONNECTED, ConnectionState.CONSENT_PENDING,
                                       ConnectionState.DISCONNECTING):
        raise NotReady(ConsentReason.CONSENT_NOT_GIVEN, "Admin consent has not been given yet.")
    return tenant


def refused(session: Session, account_id: str, failure: errors.AuthFailed) -> None:
    """Connect integration was refused by the tenant: say why, without changing the state."""
    row = connection(session, account_id)
    row.reason, row.detail = failure.reason, str(failure)


def activate(session: Session, account_id: str, tenant_id: str, domains: list[str] | None, user_id: str,
             now: datetime) -> int:
    """Connect integration proved ``tenant_id`` (with its verified ``domains``): store it as the
    account's and switch syncing on for every user of the account; returns how many were queued.

    Raises :class:`NotReady` when the consent changed while it was being proved.
    """
    row = connection(session, account_id)
    if (row.claimed_tenant_id or row.tenant_id) != tenant_id or row.state in (ConnectionState.DISCONNECTED,
                                                                               ConnectionState.DISCONNECTING):
        raise NotReady(ConsentReason.CONSENT_NOT_GIVEN, "The consent changed while it was being checked.")
    row.tenant_id, row.claimed_tenant_id = tenant_id, None
    row.connected_by, row.connected_at = user_id, now
    _working(row, domains, now)
    return schedule.everyone_now(session, account_id, now)


def _working(row: Connection, domains: list[str] | None, now: datetime) -> None:
    """Connected, nothing wrong, with the domains just read."""
    row.state, row.reason, row.detail, row.failures, row.retry_at = ConnectionState.CONNECTED, None, None, 0, None
    row.verified_domains, row.domains_checked_at = domains, now


def resume(session: Session, account_id: str, domains: list[str] | None, now: datetime) -> None:
    """A suspended tenant answers again (:func:`check_tenant`): connected, and everyone queued."""
    row = connection(session, account_id)
    if row.state == ConnectionState.SUSPENDED:
        _working(row, domains, now)
        schedule.mark_everyone(session, account_id)


def domains_changed(session: Session, account_id: str, domains: list[str] | None, now: datetime) -> bool:
    """Record the tenant's verified domains read again; a change queues everyone (a domain removed
    takes entries away, one added brings them)."""
    row = connection(session, account_id)
    changed = (sorted(row.verified_domains) if row.verified_domains is not None else None) != domains
    row.verified_domains, row.domains_checked_at = domains, now
    if changed:
        schedule.mark_everyone(session, account_id)
    return changed


@dataclass(frozen=True)
class Proof:
    """What proving access found: the tenant's verified domains (None if not readable) and whether the
    token's readable ``roles`` carry the tenant-wide ``Calendars.ReadWrite`` (a hint, never a refusal)."""

    domains: list[str] | None
    broad_grant: bool


def prove_access(graph: Graph, tenant_id: str) -> Proof:
    """Get an app-only token and call Graph.

    Raises :class:`errors.AuthFailed` with the reason when the tenant refuses us. The token decides
    nothing (access tokens are opaque to clients, and with RBAC for Applications the calendar access
    comes from Exchange, not from the token's ``roles``: facts.md): a missing permission shows as
    Graph's 403 ``ErrorAccessDenied`` on the first call that needs it, which suspends the account
    with that reason, and a mailbox outside an Exchange scope is that user's reason.
    """
    graph.tokens.forget(tenant_id)  # MSAL keeps token errors for a while: ask afresh
    token = graph.tokens.token(tenant_id)
    return Proof(graph.directory.verified_domains(tenant_id), grant.broad_grant_in(token))


def probes_due(session: Session, now: datetime) -> list[str]:
    """Suspended accounts whose next probe (the back-off's ``retry_at``) has come."""
    return list(session.scalars(select(Connection.account_id).where(
        Connection.state == ConnectionState.SUSPENDED, Connection.retry_at <= now)))


def domains_due(session: Session, now: datetime) -> list[str]:
    """Connected accounts whose verified domains were read before their latest full pass began (``now``
    is unused: the full pass decides when)."""
    return list(session.scalars(select(Connection.account_id).where(
        Connection.state == ConnectionState.CONNECTED,
        or_(Connection.domains_checked_at.is_(None), Connection.domains_checked_at < Connection.full_reconcile_at))))


def check_tenant(db: Database, graph: Graph, account_id: str, now: datetime) -> None:
    """Look at the account's tenant again, each step in its own transaction: a suspended one is probed
    (:func:`prove_access`; it resumes when it answers, else backs off further), a connected one has
    its verified domains read again (:func:`domains_changed`). A refusal suspends the account; another
    Graph failure changes nothing (the next probe, or the next look at the domains, tries again)."""
    with db.session() as session:
        row = connection(session, account_id)
        tenant, suspended = row.tenant_id, row.state == ConnectionState.SUSPENDED
        way = grant.read(session, account_id).grant
    if tenant is None:
        return
    graph = graph.under(way)
    try:
        domains = prove_access(graph, tenant).domains if suspended else graph.directory.verified_domains(tenant)
        broad = grant.broad_grant_in(graph.tokens.token(tenant))  # MSAL's cache: no new request
    except errors.AuthFailed as exc:
        with db.session() as session:
            suspend(session, account_id, exc, now)
        return
    except errors.GraphError:
        return
    with db.session() as session:
        grant.saw_broad_grant(session, account_id, broad, now)
        if suspended:
            resume(session, account_id, domains, now)
        else:
            domains_changed(session, account_id, domains, now)


def disconnect(session: Session, account_id: str, remove_entries: bool) -> None:
    """Stop syncing; with ``remove_entries`` the worker first removes the future entries made."""
    row = connection(session, account_id)
    if remove_entries and row.tenant_id:
        row.state = ConnectionState.DISCONNECTING
        users = [u for (u,) in session.execute(select(Entry.user_id).where(Entry.account_id == account_id))]
        dirty_keys.mark_dirty(session, account_id, users, lane=dirty_keys.Lane.BULK)
    else:
        row.state = ConnectionState.DISCONNECTED
    row.reason, row.detail, row.claimed_tenant_id = None, None, None


def finish_disconnects(session: Session) -> list[str]:
    """Disconnecting accounts with no work left become disconnected; returns them."""
    finished = []
    for row in session.scalars(select(Connection).where(Connection.state == ConnectionState.DISCONNECTING)):
        if not dirty_keys.pending(session, row.account_id):
            row.state = ConnectionState.DISCONNECTED
            finished.append(row.account_id)
    return finished


def suspend(session: Session, account_id: str, failure: errors.AuthFailed, now: datetime) -> None:
    """The tenant refuses us: stop the account's work, say why, and probe again later."""
    row = connection(session, account_id)
    if row.state not in (ConnectionState.CONNECTED, ConnectionState.SUSPENDED):
        return
    if row.state == ConnectionState.CONNECTED:
        row.failures = 0
    row.state, row.reason, row.detail = ConnectionState.SUSPENDED, failure.reason, str(failure)
    row.retry_at = retry.after_tenant_failure(row.failures, now)
    row.failures += 1

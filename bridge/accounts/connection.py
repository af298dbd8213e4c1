"""Connecting an account to its Azure AD tenant, and keeping that connection's state true.

Three steps (docs/BEHAVIOUR.md §2): Connect makes the admin-consent link with a single-use ``state`` bound to
the account (not while connected: Disconnect first); the callback checks ``error``, then
``admin_consent=True``, then ``state``, and keeps the tenant it names as a claim; Connect integration
proves the claim with an app-only token and a Graph call, and only then stores the tenant as the
account's and switches syncing on. So no callback, forged or real, changes a connected account's tenant.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import Session

from bridge.codes import TenantReason
from bridge.config import Settings
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.auth import token_roles
from bridge.graph.client import Graph
from bridge.lms import settings
from bridge.lms.ingest import ensure_account
from bridge.models import Connection, ConsentRequest, Entry, LmsUser, UserState
from bridge.queue import dirty_keys, retry
from bridge.trust import audit

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
REQUIRED_ROLE = "Calendars.ReadWrite"
CALLBACK_PATH = "/integrations/outlook/consent"

DISCONNECTED = "disconnected"
CONSENT_PENDING = "consent_pending"
CONSENT_RECEIVED = "consent_received"
CONNECTED = "connected"
SUSPENDED = "suspended"
DISCONNECTING = "disconnecting"
STATES = (DISCONNECTED, CONSENT_PENDING, CONSENT_RECEIVED, CONNECTED, SUSPENDED, DISCONNECTING)


class AlreadyConnected(Exception):
    """A new consent link is refused while the account is connected: Disconnect first."""


class NotReady(Exception):
    """An action is not possible in the connection's current state; ``reason`` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ConsentLink:
    url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class CallbackResult:
    """What the consent callback found: ``kind`` is accepted, declined, incomplete (no
    ``admin_consent=True``), expired, used, superseded (a newer link replaced it), unknown,
    wrong_tenant or already_connected. ``tenant_id`` is the tenant the answer claims."""

    kind: str
    account_id: str | None = None
    tenant_id: str | None = None
    detail: str | None = None


def connection(session: Session, account_id: str) -> Connection:
    """The account's connection row, created (disconnected) on first use."""
    ensure_account(session, account_id)
    row = session.get(Connection, account_id)
    if row is None:
        row = Connection(account_id=account_id, state=DISCONNECTED, failures=0)
        session.add(row)
        session.flush()
    return row


def last_request(session: Session, account_id: str) -> ConsentRequest | None:
    """The account's latest consent link, used or not."""
    return session.scalars(select(ConsentRequest).where(ConsentRequest.account_id == account_id)
                           .order_by(ConsentRequest.created_at.desc()).limit(1)).first()


def live(session: Session) -> list[Connection]:
    """Connections the worker looks after: connected, suspended (to probe) and disconnecting."""
    return list(session.scalars(select(Connection).where(Connection.state.in_((SUSPENDED, DISCONNECTING,
                                                                                CONNECTED)))))


def consent_url(settings: Settings, state: str) -> str:
    query = urlencode({"client_id": settings.client_id, "scope": GRAPH_SCOPE,
                       "redirect_uri": settings.public_url + CALLBACK_PATH, "state": state})
    return f"{settings.authority_url}/organizations/v2.0/adminconsent?{query}"


def start_consent(session: Session, settings: Settings, account_id: str, user_id: str,
                  now: datetime) -> ConsentLink:
    """Issue a fresh admin-consent link; earlier unused links of the account stop working.

    Raises :class:`AlreadyConnected` while the account is connected: its tenant is changed only by
    Disconnect and a new consent.
    """
    row = connection(session, account_id)
    if row.state == CONNECTED:
        raise AlreadyConnected
    _retire_links(session, account_id, now)
    state = secrets.token_urlsafe(32)
    expires = now + timedelta(days=settings.consent_link_days)
    session.add(ConsentRequest(state=state, account_id=account_id, created_by=user_id, created_at=now,
                               expires_at=expires))
    if row.state in (DISCONNECTED, CONSENT_PENDING, CONSENT_RECEIVED):
        row.state = CONSENT_PENDING
    row.requested_by, row.requested_at = user_id, now
    return ConsentLink(consent_url(settings, state), state, expires)


def _retire_links(session: Session, account_id: str, now: datetime) -> None:
    """The account's unused consent links stop working (they answer "superseded")."""
    for old in session.scalars(select(ConsentRequest).where(ConsentRequest.account_id == account_id,
                                                            ConsentRequest.used_at.is_(None))):
        old.used_at, old.outcome = now, "superseded"


def pending_link(session: Session, settings: Settings, account_id: str, now: datetime) -> ConsentLink | None:
    """The account's link still waiting to be used, if any."""
    request = session.scalars(
        select(ConsentRequest).where(ConsentRequest.account_id == account_id, ConsentRequest.used_at.is_(None),
                                     ConsentRequest.expires_at > now)
        .order_by(ConsentRequest.created_at.desc())
    ).first()
    return ConsentLink(consent_url(settings, request.state), request.state, request.expires_at) if request else None


def consent_callback(session: Session, params: Mapping[str, str], now: datetime) -> CallbackResult:
    """Check the redirect from the consent endpoint and keep the tenant it names as a claim.

    In order: ``error`` (it comes with ``admin_consent=True``), then ``admin_consent=True``, then a
    live ``state``; a link is used up by an answer from Azure AD (accepted or declined) only.
    """
    request = session.get(ConsentRequest, params.get("state", ""), with_for_update=True) \
        if params.get("state") else None
    if params.get("error"):
        if request is not None and request.used_at is None and request.expires_at > now:
            request.used_at, request.outcome = now, "declined"
            row = connection(session, request.account_id)
            if row.state == CONSENT_PENDING:
                row.state = DISCONNECTED
        return CallbackResult("declined", request.account_id if request else None,
                              detail=params.get("error_description"))
    if params.get("admin_consent") != "True":
        return CallbackResult("incomplete", request.account_id if request else None)
    if request is None:
        return CallbackResult("unknown")
    if request.used_at is not None:  # an expired or replaced link keeps saying so when opened again
        kind = request.outcome if request.outcome in ("expired", "superseded") else "used"
        return CallbackResult(kind, request.account_id)
    if request.expires_at <= now:
        request.used_at, request.outcome = now, "expired"
        return CallbackResult("expired", request.account_id)
    request.used_at = now
    tenant = params.get("tenant", "").strip()
    if not tenant:
        request.outcome = "declined"
        return CallbackResult("declined", request.account_id, detail="no tenant in the answer")
    row = connection(session, request.account_id)
    if row.state == CONNECTED:
        request.outcome = "already_connected"
        return CallbackResult("already_connected", request.account_id, tenant, detail=row.tenant_id)
    if row.tenant_id and row.tenant_id != tenant and _has_entries(session, request.account_id, row.tenant_id):
        request.outcome = "wrong_tenant"
        return CallbackResult("wrong_tenant", request.account_id, tenant, detail=row.tenant_id)
    request.outcome, request.tenant_id = "accepted", tenant
    row.claimed_tenant_id, row.consent_at, row.state = tenant, now, CONSENT_RECEIVED
    return CallbackResult("accepted", request.account_id, tenant)


def _has_entries(session: Session, account_id: str, tenant_id: str) -> bool:
    return session.scalars(select(Entry.user_id).where(Entry.account_id == account_id,
                                                       Entry.tenant_id == tenant_id).limit(1)).first() is not None


def prove_access(graph: Graph, tenant_id: str) -> list[str] | None:
    """Get an app-only token and call Graph; returns the verified domains (None if not readable).

    Raises :class:`errors.AuthFailed` with the reason when the tenant refuses us. The token itself
    decides nothing (access tokens are opaque to clients): only a readable ``roles`` claim that
    lacks the calendar permission refuses early. Otherwise a missing permission shows as Graph's
    403 ``ErrorAccessDenied`` on the first call that needs it, which suspends the account with
    that reason (the page names the permission).
    """
    graph.tokens.forget(tenant_id)  # MSAL keeps token errors for a while: ask afresh
    token = graph.tokens.token(tenant_id)
    roles = token_roles(token)
    if roles is not None and REQUIRED_ROLE not in roles:
        raise errors.AuthFailed(f"the app lacks the {REQUIRED_ROLE} application permission",
                                TenantReason.PERMISSION_MISSING)
    return graph.directory.verified_domains(tenant_id)


def activate(db: Database, graph: Graph, account_id: str, user_id: str, now: datetime,
             locale: str | None = None) -> None:
    """Connect integration: prove access to the claimed tenant (or, when none is claimed, the
    account's own), store it as the account's, then switch syncing on for every user of the account.

    ``locale`` is the language of the manager who connects: the entries' language unless the
    account already has one. Raises :class:`NotReady` before consent, :class:`errors.AuthFailed`
    when the tenant refuses us (nothing is stored as the account's then), or another
    :class:`errors.GraphError`.
    """
    with db.session() as session:
        row = connection(session, account_id)
        tenant = row.claimed_tenant_id or row.tenant_id
        if tenant is None or row.state in (DISCONNECTED, CONSENT_PENDING, DISCONNECTING):
            raise NotReady("consent_not_given", "Admin consent has not been given yet.")
    try:
        domains = prove_access(graph, tenant)
    except errors.AuthFailed as exc:
        with db.session() as session:
            row = connection(session, account_id)
            row.reason, row.detail = exc.reason, str(exc)
        raise
    with db.session() as session:
        row = connection(session, account_id)
        if (row.claimed_tenant_id or row.tenant_id) != tenant or row.state in (DISCONNECTED, DISCONNECTING):
            raise NotReady("consent_not_given", "The consent changed while it was being checked.")
        row.tenant_id, row.claimed_tenant_id = tenant, None
        row.state, row.reason, row.detail, row.failures, row.retry_at = CONNECTED, None, None, 0, None
        row.connected_by, row.connected_at = user_id, now
        row.verified_domains, row.domains_checked_at = domains, now
        row.full_reconcile_at = now
        settings.adopt_locale(session, account_id, locale)
        _retire_links(session, account_id, now)
        queued = mark_everyone(session, account_id)
        audit.record(session, account_id, user_id, audit.CONNECTED, at=now, tenant=tenant, users_queued=queued)


def mark_everyone(session: Session, account_id: str) -> int:
    """Queue every user the account knows of (LMS users and holders of entries)."""
    users = union(select(LmsUser.id).where(LmsUser.account_id == account_id),
                  select(Entry.user_id).where(Entry.account_id == account_id))
    return dirty_keys.mark_dirty(session, account_id, [u for (u,) in session.execute(users)])


def mark_due(session: Session, account_id: str, since: datetime | None, now: datetime) -> int:
    """The periodic full pass: queue only the users whose inputs may have changed without a change
    marking them — selected in SQL, nobody else is read or planned.

    A change in the LMS (hooks), in the account's settings (the reminder) or in the tenant's domains
    (:func:`domains_changed`) queues its users in its own transaction. What changes by itself is
    time: users holding an entry whose session started or ended in (``since``, ``now``] are queued;
    so are users whose last pass failed (the mailbox may work now) and users never passed. With no
    earlier full pass (``since`` None) everyone is queued. Returns how many were.
    """
    if since is None:
        return mark_everyone(session, account_id)
    window = or_(and_(Entry.starts_at > since, Entry.starts_at <= now),
                 and_(Entry.ends_at > since, Entry.ends_at <= now))
    users = union(
        select(Entry.user_id).where(Entry.account_id == account_id, window),
        select(UserState.user_id).where(UserState.account_id == account_id, UserState.state == "failed"),
        select(LmsUser.id).outerjoin(UserState, and_(UserState.account_id == LmsUser.account_id,
                                                     UserState.user_id == LmsUser.id))
        .where(LmsUser.account_id == account_id, LmsUser.deleted.is_(False), UserState.user_id.is_(None)))
    return dirty_keys.mark_dirty(session, account_id, [u for (u,) in session.execute(users)], now)


def domains_changed(session: Session, account_id: str, domains: list[str] | None, now: datetime) -> bool:
    """Record the tenant's verified domains read again; a change queues everyone (a domain removed
    takes entries away, one added brings them)."""
    row = connection(session, account_id)
    changed = (sorted(row.verified_domains) if row.verified_domains is not None else None) != domains
    row.verified_domains, row.domains_checked_at = domains, now
    if changed:
        mark_everyone(session, account_id)
    return changed


def disconnect(session: Session, account_id: str, remove_entries: bool) -> None:
    """Stop syncing; with ``remove_entries`` the worker first removes the future entries made."""
    row = connection(session, account_id)
    if remove_entries and row.tenant_id:
        row.state = DISCONNECTING
        users = [u for (u,) in session.execute(select(Entry.user_id).where(Entry.account_id == account_id))]
        dirty_keys.mark_dirty(session, account_id, users)
    else:
        row.state = DISCONNECTED
    row.reason, row.detail, row.claimed_tenant_id = None, None, None


def finish_disconnect(session: Session, account_id: str) -> None:
    """Called when a disconnecting account has no work left."""
    row = connection(session, account_id)
    if row.state == DISCONNECTING:
        row.state = DISCONNECTED


def suspend(session: Session, account_id: str, failure: errors.AuthFailed, now: datetime) -> None:
    """The tenant refuses us: stop the account's work, say why, and probe again later."""
    row = connection(session, account_id)
    if row.state not in (CONNECTED, SUSPENDED):
        return
    if row.state == CONNECTED:
        row.failures = 0
    row.state, row.reason, row.detail = SUSPENDED, failure.reason, str(failure)
    row.retry_at = retry.after_tenant_failure(row.failures, now)
    row.failures += 1

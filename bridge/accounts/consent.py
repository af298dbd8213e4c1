"""Connecting an account to its Azure AD tenant: the consent link, its callback, and Connect integration.

Three steps (docs/BEHAVIOUR.md §2): Connect makes the admin-consent link with a single-use ``state`` bound to
the account (not while connected: Disconnect first); the callback checks ``error``, then
``admin_consent=True``, then ``state``, and keeps the tenant it names as a claim; Connect integration
proves the claim with an app-only token and a Graph call, and only then stores the tenant as the
account's and switches syncing on. So no callback, forged or real, changes a connected account's tenant.

Owns the consent links (``consent_requests``: each ``state``, used once, with its outcome); the
connection's state changes through the transitions of :mod:`bridge.accounts.connection`.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.accounts import connection
from bridge.codes import AccessGrant, AuditAction, ConnectionState, ConsentReason
from bridge.config import Settings
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.lms import grant, settings
from bridge.models import ConsentRequest, Entry
from bridge.trust import audit

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
CALLBACK_PATH = "/integrations/outlook/consent"


class AlreadyConnected(Exception):
    """A new consent link is refused while the account is connected: Disconnect first."""


@dataclass(frozen=True)
class ConsentLink:
    """An admin-consent link: its URL, its single-use ``state`` and when it stops working (UTC)."""

    url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class CallbackResult:
    """What the consent callback found: ``kind`` is accepted, declined, incomplete (no
    ``admin_consent=True``), expired, used, superseded (a newer link replaced it), unknown,
    wrong_tenant or already_connected. ``tenant_id`` is the tenant the answer claims."""

    kind: ConsentReason
    account_id: str | None = None
    tenant_id: str | None = None
    detail: str | None = None


def last_request(session: Session, account_id: str) -> ConsentRequest | None:
    """The account's latest consent link, used or not."""
    return session.scalars(select(ConsentRequest).where(ConsentRequest.account_id == account_id)
                           .order_by(ConsentRequest.created_at.desc()).limit(1)).first()


class NoScopedRegistration(Exception):
    """*Only the LMS's people* is chosen but the installation has no second app registration
    (``OUTLOOK_SYNC_SCOPED_CLIENT_ID``)."""


def client_id_for(settings: Settings, way: AccessGrant) -> str:
    """The registration the consent link of ``way`` names: the plugin's, or for *only the LMS's people*
    the second one that asks only for directory permissions (application permissions are fixed per
    registration: facts.md). Raises :class:`NoScopedRegistration` when that one is not configured."""
    if way is AccessGrant.ORGANISATION:
        return settings.client_id
    if not settings.scoped_client_id:
        raise NoScopedRegistration
    return settings.scoped_client_id


def consent_url(settings: Settings, state: str, way: AccessGrant = AccessGrant.ORGANISATION) -> str:
    """The admin-consent endpoint's address for a link with this ``state``, for the registration of ``way``."""
    query = urlencode({"client_id": client_id_for(settings, way), "scope": GRAPH_SCOPE,
                       "redirect_uri": settings.public_url + CALLBACK_PATH, "state": state})
    return f"{settings.authority_url}/organizations/v2.0/adminconsent?{query}"


def start_consent(session: Session, settings: Settings, account_id: str, user_id: str,
                  now: datetime) -> ConsentLink:
    """Issue a fresh admin-consent link; earlier unused links of the account stop working.

    Raises :class:`AlreadyConnected` while the account is connected: its tenant is changed only by
    Disconnect and a new consent; :class:`NoScopedRegistration` (nothing stored) when the account chose
    *only the LMS's people* and the installation has no second registration.
    """
    if connection.connection(session, account_id).state == ConnectionState.CONNECTED:
        raise AlreadyConnected
    way = grant.read(session, account_id).grant
    client_id_for(settings, way)
    _retire_links(session, account_id, now)
    state = secrets.token_urlsafe(32)
    expires = now + timedelta(days=settings.consent_link_days)
    session.add(ConsentRequest(state=state, account_id=account_id, created_by=user_id, created_at=now,
                               expires_at=expires))
    connection.consent_requested(session, account_id, user_id, now)
    return ConsentLink(consent_url(settings, state, way), state, expires)


def _retire_links(session: Session, account_id: str, now: datetime) -> None:
    """The account's unused consent links stop working (they answer "superseded")."""
    for old in session.scalars(select(ConsentRequest).where(ConsentRequest.account_id == account_id,
                                                            ConsentRequest.used_at.is_(None))):
        old.used_at, old.outcome = now, ConsentReason.SUPERSEDED


def pending_link(session: Session, settings: Settings, account_id: str, now: datetime) -> ConsentLink | None:
    """The account's link still waiting to be used, if any."""
    request = session.scalars(
        select(ConsentRequest).where(ConsentRequest.account_id == account_id, ConsentRequest.used_at.is_(None),
                                     ConsentRequest.expires_at > now)
        .order_by(ConsentRequest.created_at.desc())
    ).first()
    if request is None:
        return None
    way = grant.read(session, account_id).grant
    try:
        return ConsentLink(consent_url(settings, request.state, way), request.state, request.expires_at)
    except NoScopedRegistration:
        return None


def consent_callback(session: Session, params: Mapping[str, str], now: datetime) -> CallbackResult:
    """Check the redirect from the consent endpoint and keep the tenant it names as a claim.

    In order: ``error`` (it comes with ``admin_consent=True``), then ``admin_consent=True``, then a
    live ``state``; a link is used up by an answer from Azure AD (accepted or declined) only.
    """
    request = session.get(ConsentRequest, params.get("state", ""), with_for_update=True) \
        if params.get("state") else None
    if params.get("error"):
        if request is not None and request.used_at is None and request.expires_at > now:
            request.used_at, request.outcome = now, ConsentReason.DECLINED
            connection.consent_declined(session, request.account_id)
        return CallbackResult(ConsentReason.DECLINED, request.account_id if request else None,
                              detail=params.get("error_description"))
    if params.get("admin_consent") != "True":
        return CallbackResult(ConsentReason.INCOMPLETE, request.account_id if request else None)
    if request is None:
        return CallbackResult(ConsentReason.UNKNOWN)
    if request.used_at is not None:  # an expired or replaced link keeps saying so when opened again
        kept = (ConsentReason.EXPIRED, ConsentReason.SUPERSEDED)
        return CallbackResult(ConsentReason(request.outcome) if request.outcome in kept else ConsentReason.USED,
                              request.account_id)
    if request.expires_at <= now:
        request.used_at, request.outcome = now, ConsentReason.EXPIRED
        return CallbackResult(ConsentReason.EXPIRED, request.account_id)
    request.used_at = now
    tenant = params.get("tenant", "").strip()
    if not tenant:
        request.outcome = ConsentReason.DECLINED
        return CallbackResult(ConsentReason.DECLINED, request.account_id, detail="no tenant in the answer")
    row = connection.connection(session, request.account_id)
    if row.state == ConnectionState.CONNECTED:
        request.outcome = ConsentReason.ALREADY_CONNECTED
        return CallbackResult(ConsentReason.ALREADY_CONNECTED, request.account_id, tenant, detail=row.tenant_id)
    if row.tenant_id and row.tenant_id != tenant and _has_entries(session, request.account_id, row.tenant_id):
        request.outcome = ConsentReason.WRONG_TENANT
        return CallbackResult(ConsentReason.WRONG_TENANT, request.account_id, tenant, detail=row.tenant_id)
    request.outcome, request.tenant_id = ConsentReason.ACCEPTED, tenant
    connection.consent_received(session, request.account_id, tenant, now)
    return CallbackResult(ConsentReason.ACCEPTED, request.account_id, tenant)


def _has_entries(session: Session, account_id: str, tenant_id: str) -> bool:
    return session.scalars(select(Entry.user_id).where(Entry.account_id == account_id,
                                                       Entry.tenant_id == tenant_id).limit(1)).first() is not None


def connect(db: Database, graph: Graph, account_id: str, user_id: str, now: datetime,
            locale: str | None = None) -> None:
    """Connect integration: prove access to the claimed tenant (or, when none is claimed, the
    account's own), store it as the account's, then switch syncing on for every user of the account
    (:func:`bridge.accounts.connection.activate`); the account's unused consent links stop working.

    ``locale`` is the language of the manager who connects: the entries' language unless the
    account already has one. Raises :class:`connection.NotReady` before consent,
    :class:`errors.AuthFailed` when the tenant refuses us (nothing is stored as the account's then,
    the connection says why), or another :class:`errors.GraphError`.
    """
    with db.session() as session:
        tenant = connection.tenant_to_prove(session, account_id)
        way = grant.read(session, account_id).grant
    try:
        proof = connection.prove_access(graph.under(way), tenant)
    except errors.AuthFailed as exc:
        with db.session() as session:
            connection.refused(session, account_id, exc)
        raise
    with db.session() as session:
        queued = connection.activate(session, account_id, tenant, proof.domains, user_id, now)
        grant.saw_broad_grant(session, account_id, proof.broad_grant, now)
        settings.adopt_locale(session, account_id, locale)
        _retire_links(session, account_id, now)
        audit.record(session, account_id, user_id, AuditAction.CONNECTED, at=now, tenant=tenant, users_queued=queued)

"""What the page's trust panels show managers: preview, health, credentials and audit log.

Read in the page's own transaction (:func:`plugin.page.content.load` calls :func:`load`) as one frozen
value made of the bridge's own (:mod:`bridge.trust`); the panels are the template includes
``_preview.html``, ``_health.html`` (overview) and ``_audit.html`` (activity). Only the panels of the
section being shown are read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bridge.codes import ConnectionState
from bridge.config import Settings
from bridge.trust import audit, credentials, expiry, health, preview_store

AUDIT_PAGE_SIZE = 20
PREVIEW_PAGE_SIZE = 50
HEALTH_STATES = (ConnectionState.CONNECTED, ConnectionState.SUSPENDED, ConnectionState.DISCONNECTING)
PREVIEW_STATES = (ConnectionState.CONSENT_RECEIVED, ConnectionState.CONNECTED, ConnectionState.SUSPENDED)


def pages(total: int, size: int) -> int:
    """How many pages of ``size`` lines ``total`` lines fill (at least one)."""
    return max(1, -(-total // size))


@dataclass(frozen=True)
class PreviewPanel:
    """The latest preview (``summary`` None: none made) and one page (1-based) of the users it leaves out,
    of ``total``."""

    summary: preview_store.PreviewSummary | None
    lines: tuple[preview_store.PreviewLine, ...]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return pages(self.total, PREVIEW_PAGE_SIZE)


@dataclass(frozen=True)
class AuditPanel:
    """One page (1-based) of the audit log, newest first, of ``total`` lines."""

    lines: tuple[audit.AuditLine, ...]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return pages(self.total, AUDIT_PAGE_SIZE)


@dataclass(frozen=True)
class TrustView:
    """The panels' data: the credentials (always); health (None when its panel is not shown or not read);
    the preview and the audit log when their section is shown (None otherwise)."""

    credentials: tuple[credentials.CredentialState, ...]
    health: health.Health | None
    preview: PreviewPanel | None
    audit: AuditPanel | None


def load(session: Session, settings: Settings, account_id: str, state: str, now: datetime, *,
         with_health: bool, with_preview: bool, audit_page: int | None, preview_page: int = 1) -> TrustView:
    """The manager-only panels for an account whose connection is in ``state``: health when
    ``with_health`` (and the state has it), the preview when ``with_preview`` (and the state has one),
    the audit log's ``audit_page`` unless it is None."""
    preview = None
    if with_preview and state in PREVIEW_STATES:
        lines, total = preview_store.left_out(session, account_id, offset=(preview_page - 1) * PREVIEW_PAGE_SIZE,
                                              limit=PREVIEW_PAGE_SIZE)
        preview = PreviewPanel(preview_store.summary(session, account_id), tuple(lines), total, preview_page)
    log = None
    if audit_page is not None:
        audit_lines, audit_total = audit.lines(session, account_id, offset=(audit_page - 1) * AUDIT_PAGE_SIZE,
                                               limit=AUDIT_PAGE_SIZE)
        log = AuditPanel(tuple(audit_lines), audit_total, audit_page)
    return TrustView(
        credentials=tuple(credentials.states(session, expiry.configured(settings), now)),
        health=health.summarise(health.facts(session, account_id, now), now)
        if with_health and state in HEALTH_STATES else None,
        preview=preview, audit=log)

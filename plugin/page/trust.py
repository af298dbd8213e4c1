"""What the page's trust panels show managers: preview, health, credentials and audit log.

Read in the page's own transaction (:func:`plugin.page.content.load` calls :func:`load`) as one frozen
value made of the bridge's own (:mod:`bridge.trust`); the panels are the template includes
``_preview.html``, ``_health.html`` and ``_audit.html``.
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


@dataclass(frozen=True)
class TrustView:
    """The panels' data: the credentials; health (None when its panel is not shown); the latest
    preview (None: none made) with one page of the users it leaves out, shown when ``show_preview``;
    one page of the audit log. ``*_page`` are 1-based, ``*_total`` count every line."""

    credentials: tuple[credentials.CredentialState, ...]
    health: health.Health | None
    show_preview: bool
    preview: preview_store.PreviewSummary | None
    preview_lines: tuple[preview_store.PreviewLine, ...]
    preview_total: int
    preview_page: int
    audit_lines: tuple[audit.AuditLine, ...]
    audit_total: int
    audit_page: int

    @property
    def audit_pages(self) -> int:
        return max(1, -(-self.audit_total // AUDIT_PAGE_SIZE))

    @property
    def preview_pages(self) -> int:
        return max(1, -(-self.preview_total // PREVIEW_PAGE_SIZE))


def load(session: Session, settings: Settings, account_id: str, state: str, now: datetime, *,
         audit_page: int = 1, preview_page: int = 1) -> TrustView:
    """Everything the manager-only panels show for an account whose connection is in ``state``."""
    show_preview = state in PREVIEW_STATES
    lines: list[preview_store.PreviewLine] = []
    total = 0
    if show_preview:
        lines, total = preview_store.left_out(session, account_id, offset=(preview_page - 1) * PREVIEW_PAGE_SIZE,
                                              limit=PREVIEW_PAGE_SIZE)
    audit_lines, audit_total = audit.lines(session, account_id, offset=(audit_page - 1) * AUDIT_PAGE_SIZE,
                                           limit=AUDIT_PAGE_SIZE)
    return TrustView(
        credentials=tuple(credentials.states(session, expiry.configured(settings), now)),
        health=health.summarise(health.facts(session, account_id, now), now) if state in HEALTH_STATES else None,
        show_preview=show_preview,
        preview=preview_store.summary(session, account_id) if show_preview else None,
        preview_lines=tuple(lines), preview_total=total, preview_page=preview_page,
        audit_lines=tuple(audit_lines), audit_total=audit_total, audit_page=audit_page)

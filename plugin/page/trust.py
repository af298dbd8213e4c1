"""What the page's trust panels show managers: preview, health, credentials and audit log.

Read in the page's own transaction (:func:`plugin.page.views.load` calls :func:`load`); the panels are the
template includes ``_preview.html``, ``_health.html`` and ``_audit.html``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bridge.config import Settings
from bridge.trust import audit, credentials, expiry, health, preview_store

AUDIT_PAGE_SIZE = 20
PREVIEW_PAGE_SIZE = 50
HEALTH_STATES = ("connected", "suspended", "disconnecting")
PREVIEW_STATES = ("consent_received", "connected", "suspended")


def _page(args: Any, name: str) -> int:
    raw = str(args.get(name, "1"))
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**6 else 1


@dataclass
class TrustView:
    """The panels' data (each None when its panel is not shown)."""

    credentials: list[credentials.CredentialState] = field(default_factory=list)
    health: health.Health | None = None
    preview: preview_store.PreviewSummary | None = None
    preview_lines: list[preview_store.PreviewLine] = field(default_factory=list)
    preview_total: int = 0
    preview_page: int = 1
    show_preview: bool = False
    audit_lines: list[audit.AuditLine] = field(default_factory=list)
    audit_total: int = 0
    audit_page: int = 1

    @property
    def audit_pages(self) -> int:
        return max(1, -(-self.audit_total // AUDIT_PAGE_SIZE))

    @property
    def preview_pages(self) -> int:
        return max(1, -(-self.preview_total // PREVIEW_PAGE_SIZE))


def load(session: Session, settings: Settings, account_id: str, state: str, args: Any, now: datetime) -> TrustView:
    """Everything the manager-only panels show for an account whose connection is in ``state``."""
    view = TrustView(audit_page=_page(args, "audit_page"), preview_page=_page(args, "preview_page"))
    view.credentials = credentials.states(session, expiry.configured(settings), now)
    if state in HEALTH_STATES:
        view.health = health.summarise(health.facts(session, account_id, now), now)
    view.show_preview = state in PREVIEW_STATES
    if view.show_preview:
        view.preview = preview_store.summary(session, account_id)
        view.preview_lines, view.preview_total = preview_store.left_out(
            session, account_id, offset=(view.preview_page - 1) * PREVIEW_PAGE_SIZE, limit=PREVIEW_PAGE_SIZE)
    view.audit_lines, view.audit_total = audit.lines(
        session, account_id, offset=(view.audit_page - 1) * AUDIT_PAGE_SIZE, limit=AUDIT_PAGE_SIZE)
    return view

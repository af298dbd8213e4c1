"""Each configured credential's last outcome at the identity platform, shared by every process.

The token source (:mod:`bridge.graph.auth`) reports a credential's outcome when it changes; this
module stores it, so the page and ``outlook-sync status`` (other processes) can say which credential
works and why another is refused.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.codes import AuditAction, ConnectionState
from bridge.config import Settings
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.auth import OutcomeHandler
from bridge.models import Connection, CredentialCheck, utcnow
from bridge.trust import audit
from bridge.trust.expiry import CredentialExpiry


@dataclass(frozen=True)
class CredentialState:
    """A configured credential as shown: its end date, warning level and last outcome."""

    kind: str
    slot: str
    expires_at: datetime | None
    days_left: int | None
    level: str
    ok_at: datetime | None
    failed_at: datetime | None
    code: str | None
    reason: str | None

    @property
    def failing(self) -> bool:
        """The last outcome was a refusal."""
        return self.failed_at is not None and (self.ok_at is None or self.failed_at > self.ok_at)


def recorder(db: Database) -> OutcomeHandler:
    """A ``TokenSource.on_outcome`` handler that stores each outcome in its own transaction."""

    def handle(slot: str, refusal: errors.AuthFailed | None) -> None:
        with db.session() as session:
            store(session, slot, refusal, utcnow())

    return handle


def store(session: Session, slot: str, refusal: errors.AuthFailed | None, now: datetime) -> None:
    """Record a slot's outcome: a refusal keeps its AADSTS code and reason, a token clears neither."""
    row = session.get(CredentialCheck, slot)
    if row is None:
        row = CredentialCheck(slot=slot)
        session.add(row)
    if refusal is None:
        row.ok_at = now
    else:
        row.failed_at, row.code, row.reason = now, refusal.code or None, refusal.reason


def states(session: Session, configured: list[CredentialExpiry], now: datetime) -> list[CredentialState]:
    """The configured credentials (next first) with their last recorded outcome."""
    checks = {row.slot: row for row in session.scalars(select(CredentialCheck))}
    found = []
    for credential in configured:
        check = checks.get(credential.slot)
        found.append(CredentialState(
            credential.kind, credential.slot, credential.expires_at, credential.whole_days_left(now),
            credential.level(now), check.ok_at if check else None, check.failed_at if check else None,
            check.code if check else None, check.reason if check else None))
    return found


def fingerprint(kind: str, secret: str | None, thumbprint: str | None) -> str:
    """Tells two credentials apart without keeping them: a certificate's thumbprint, or a truncated
    SHA-256 of a secret (never shown anywhere)."""
    if kind == "certificate":
        return "cert:" + (thumbprint or "").lower()
    return "secret:" + hashlib.sha256((secret or "").encode()).hexdigest()[:16]


def note_rotation(session: Session, configured: dict[str, str], now: datetime) -> list[str]:
    """Compare each slot's credential fingerprint with the one last seen; a changed one is a rotation,
    written to the audit log of every account that is connected (or was). Returns the slots rotated.

    ``configured`` maps slot → :func:`fingerprint`. The very first start records the fingerprints only.
    """
    rows = {row.slot: row for row in session.scalars(select(CredentialCheck))}
    rotated = []
    for slot, print_ in configured.items():
        row = rows.get(slot)
        if row is None:
            session.add(CredentialCheck(slot=slot, fingerprint=print_))
            if rows:  # a credential added beside known ones: the start of a rotation
                rotated.append(slot)
            continue
        if row.fingerprint not in (None, print_):
            rotated.append(slot)
            row.ok_at = row.failed_at = row.code = row.reason = None
        row.fingerprint = print_
    if rotated:
        accounts = session.scalars(select(Connection.account_id).where(
            Connection.state.in_((ConnectionState.CONNECTED, ConnectionState.SUSPENDED,
                                  ConnectionState.CONSENT_RECEIVED, ConnectionState.DISCONNECTING))))
        for account_id in accounts:
            audit.record(session, account_id, None, AuditAction.CREDENTIAL_ROTATED, at=now, slots=rotated)
    return rotated


def settings_fingerprints(settings: Settings) -> dict[str, str]:
    """:func:`fingerprint` of each slot the settings configure."""
    found = {}
    for slot, cert, thumbprint, secret in (
        ("current", settings.client_cert_path, settings.client_cert_thumbprint, settings.client_secret),
        ("next", settings.client_cert_path_next, settings.client_cert_thumbprint_next, settings.client_secret_next),
    ):
        if cert:
            found[slot] = fingerprint("certificate", None, thumbprint)
        elif secret:
            found[slot] = fingerprint("secret", secret, None)
    return found

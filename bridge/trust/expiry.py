"""Days left on the plugin's credentials, and how loudly to warn about them.

The certificate's end date is read from its PEM file; a client secret's end date is not in the secret,
so it is a setting (``OUTLOOK_SYNC_CLIENT_SECRET_EXPIRES``). Reading it from Graph
(``GET /applications?$filter=appId eq …`` → ``passwordCredentials[].endDateTime``) would need the
``Application.Read.All`` permission in the publisher's tenant: a broad read of every app registration
that customers' administrators should not be asked to grant, so it is not used.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from cryptography import x509

from bridge.codes import CredentialLevel
from bridge.config import Settings


def level(days_left: float | None) -> CredentialLevel:
    """How to warn for a credential with ``days_left`` days (fractional) before it expires.

    ``None`` (end date not given) → unknown; ≤ 0 → expired; ≤ 1 → 1_day; ≤ 7 → 7_days;
    ≤ 30 → 30_days; otherwise ok.
    """
    if days_left is None:
        return CredentialLevel.UNKNOWN
    if days_left <= 0:
        return CredentialLevel.EXPIRED
    for limit, name in ((1, CredentialLevel.CRITICAL), (7, CredentialLevel.WARNING), (30, CredentialLevel.NOTICE)):
        if days_left <= limit:
            return name
    return CredentialLevel.OK


@dataclass(frozen=True)
class CredentialExpiry:
    """One configured credential: ``kind`` secret|certificate, ``slot`` current|next."""

    kind: str
    slot: str
    expires_at: datetime | None

    def days_left(self, now: datetime) -> float | None:
        if self.expires_at is None:
            return None
        return (self.expires_at - now).total_seconds() / 86400

    def whole_days_left(self, now: datetime) -> int | None:
        """Days left rounded down (0 on the last day, negative once expired)."""
        days = self.days_left(now)
        return None if days is None else math.floor(days)

    def level(self, now: datetime) -> CredentialLevel:
        return level(self.days_left(now))


def certificate_expiry(pem_path: str) -> datetime:
    """The end of validity (``notAfter``) of the first certificate in a PEM file.

    Raises ``ValueError`` when the file holds no PEM certificate.
    """
    data = Path(pem_path).read_bytes()
    return x509.load_pem_x509_certificates(data)[0].not_valid_after_utc


def end_of_day(day: date) -> datetime:
    """A secret's end date as an instant: the end of that day in UTC (Azure shows dates in UTC)."""
    return datetime.combine(day, time.max, UTC)


def configured(settings: Settings) -> list[CredentialExpiry]:
    """Every credential the settings name, next before current, with its end date when known."""
    found: list[CredentialExpiry] = []
    for slot, cert_path, secret, expires in (
        ("next", settings.client_cert_path_next, settings.client_secret_next, settings.client_secret_next_expires),
        ("current", settings.client_cert_path, settings.client_secret, settings.client_secret_expires),
    ):
        if cert_path:
            found.append(CredentialExpiry("certificate", slot, certificate_expiry(cert_path)))
        elif secret:
            found.append(CredentialExpiry("secret", slot, end_of_day(expires) if expires else None))
    return found


GAUGE = "outlook_sync_credential_days_left"


def gauges(settings: Settings, now: datetime) -> dict[tuple[str, str], float]:
    """The metric ``outlook_sync_credential_days_left{kind, slot}`` (days, fractional, negative once
    expired) for each credential whose end date is known, for a metrics exporter to publish."""
    found = {}
    for credential in configured(settings):
        days = credential.days_left(now)
        if days is not None:
            found[(credential.kind, credential.slot)] = round(days, 3)
    return found

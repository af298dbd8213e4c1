"""App-only tokens: one MSAL application per customer tenant and credential, kept for its token cache.

With a second (``next``) credential configured for a rotation, it is tried first and the current one
is the fall-back; each credential's refusal is logged with its AADSTS code (never the secret) and
handed to an optional ``on_outcome`` callback, so the page can say which credential fails and why.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msal
import requests

from bridge.codes import TenantReason
from bridge.graph import errors

SCOPE = ["https://graph.microsoft.com/.default"]
log = logging.getLogger("outlook_sync.auth")

# A credential slot's outcome: ``(slot, None)`` when it got a token, else ``(slot, the refusal)``.
OutcomeHandler = Callable[[str, "errors.AuthFailed | None"], None]

# AADSTS codes → why the tenant refuses us (facts.md; never branch on description text).
_REASONS = {
    7000229: TenantReason.CONSENT_MISSING,
    65001: TenantReason.CONSENT_MISSING,
    700016: TenantReason.APP_NOT_FOUND,
    7000215: TenantReason.SECRET_INVALID,
    7000222: TenantReason.SECRET_EXPIRED,
    90002: TenantReason.TENANT_NOT_FOUND,
    900023: TenantReason.TENANT_NOT_FOUND,
}
# Refusals of the credential itself (bad, expired or unknown secret or certificate assertion), as
# opposed to the tenant's (consent, tenant unknown): only these are reported per credential.
CREDENTIAL_CODES = frozenset({"7000215", "7000222", "7000218", "700027", "700024", "50027"})


@dataclass(frozen=True)
class Credentials:
    """The plugin's app registration: a secret, or a certificate (PEM with key) and thumbprint."""

    client_id: str
    authority_url: str
    secret: str | None = None
    cert_path: str | None = None
    cert_thumbprint: str | None = None

    def msal_credential(self) -> str | dict[str, str]:
        if self.cert_path and self.cert_thumbprint:
            return {"private_key": Path(self.cert_path).read_text(), "thumbprint": self.cert_thumbprint}
        assert self.secret is not None
        return self.secret


def token_roles(access_token: str) -> set[str] | None:
    """The application permissions a token says it carries (its ``roles`` claim), or ``None`` when it
    cannot be read. Access tokens are opaque to clients (Microsoft: they may be encrypted or not be
    JWTs at all), so this may help diagnose where readable; Graph's answers decide."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    roles = claims.get("roles") if isinstance(claims, dict) else None
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        return None
    return set(roles)


class TokenSource:
    """Gives an app-only Graph token for a tenant, or raises :class:`errors.AuthFailed`."""

    def __init__(self, credentials: Credentials, http: requests.Session, next_credentials: Credentials | None = None,
                 on_outcome: OutcomeHandler | None = None) -> None:
        self._slots = ([("next", next_credentials)] if next_credentials else []) + [("current", credentials)]
        self._http = http
        self._apps: dict[tuple[str, str], msal.ConfidentialClientApplication] = {}
        self._lock = threading.Lock()
        self._last: dict[str, str] = {}
        self.on_outcome = on_outcome

    def _app(self, tenant_id: str, slot: str, credentials: Credentials) -> msal.ConfidentialClientApplication:
        with self._lock:
            app = self._apps.get((tenant_id, slot))
            if app is None:
                try:
                    app = msal.ConfidentialClientApplication(
                        credentials.client_id,
                        authority=f"{credentials.authority_url}/{tenant_id}",
                        client_credential=credentials.msal_credential(),
                        http_client=self._http,
                        instance_discovery=False,
                    )
                except ValueError as exc:
                    # MSAL raises ValueError when the tenant's discovery document is refused.
                    raise errors.AuthFailed(
                        f"tenant {tenant_id} is not known to the identity platform",
                        TenantReason.TENANT_NOT_FOUND,
                    ) from exc
                except requests.RequestException as exc:
                    raise errors.Transient(f"identity platform unreachable: {type(exc).__name__}") from exc
                self._apps[(tenant_id, slot)] = app
            return app

    def token(self, tenant_id: str) -> str:
        """A valid access token (from MSAL's cache until 5 minutes before it expires).

        Tries the next credential first, then the current one; raises the last refusal when none works.
        """
        refusal: errors.AuthFailed | None = None
        for slot, credentials in self._slots:
            try:
                token = self._token(tenant_id, slot, credentials)
            except errors.AuthFailed as exc:
                if exc.code in CREDENTIAL_CODES:
                    self._report(slot, tenant_id, exc)
                refusal = exc
                continue
            self._report(slot, tenant_id, None)
            return token
        assert refusal is not None
        raise refusal

    def _report(self, slot: str, tenant_id: str, refusal: errors.AuthFailed | None) -> None:
        """Log and hand on a slot's outcome when it changed (MSAL's caches make most calls repeats)."""
        key = "ok" if refusal is None else f"{refusal.code}:{refusal.reason}"
        with self._lock:
            changed, self._last[slot] = self._last.get(slot) != key, key
        if not changed:
            return
        if refusal is not None:
            log.warning("credential %s refused for tenant %s: AADSTS%s (%s)", slot, tenant_id,
                        refusal.code or "?", refusal.reason)
        if self.on_outcome is not None:
            self.on_outcome(slot, refusal)

    def _token(self, tenant_id: str, slot: str, credentials: Credentials) -> str:
        try:
            result: dict[str, Any] = self._app(tenant_id, slot, credentials).acquire_token_for_client(scopes=SCOPE)
        except requests.RequestException as exc:
            raise errors.Transient(f"identity platform unreachable: {type(exc).__name__}") from exc
        if "access_token" in result:
            return str(result["access_token"])
        codes = result.get("error_codes") or []
        reason = next((_REASONS[c] for c in codes if c in _REASONS), TenantReason.AUTH_FAILED)
        first_line = str(result.get("error_description", "")).split("\r\n")[0].split(" Trace ID")[0]
        raise errors.AuthFailed(f"{result.get('error', 'error')}: {first_line}", reason,
                                code=str(codes[0]) if codes else "")

    def forget(self, tenant_id: str) -> None:
        """Drop a tenant's application (after consent changes: MSAL caches token errors)."""
        with self._lock:
            for slot, _ in self._slots:
                self._apps.pop((tenant_id, slot), None)

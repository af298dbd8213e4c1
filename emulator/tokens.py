"""Access tokens: RS256 JWTs signed by a per-run key, published as JWKS, or opaque strings.

Graph requests are authenticated by verifying these tokens; verified tokens are cached by their
string (RSA verification per request would cap throughput), while expiry is checked every time.
Microsoft documents access tokens as opaque to clients: they may be encrypted or not JWTs at all.
With ``opaque=True`` a token is a random string (no dots, nothing to decode) that Graph knows by a
lookup table of the tokens this emulator issued.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

GRAPH_AUDIENCE = "https://graph.microsoft.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for."""

    tenant_id: str
    client_id: str
    roles: frozenset[str]
    expires_at: float


class TokenInvalid(Exception):
    """The bearer token cannot be used; the message is Graph's."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """Issues and verifies app-only tokens."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = _b64(hashlib.sha1(der).digest())
        self._public = self._key.public_key()
        self._cache: dict[str, Principal] = {}
        self._opaque: dict[str, Principal] = {}

    def jwks(self) -> dict[str, Any]:
        numbers = self._public.public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "x5t": self.kid,
                    "alg": "RS256",
                    "n": _b64(n),
                    "e": _b64(e),
                }
            ]
        }

    def issue(
        self,
        *,
        issuer: str,
        tenant_id: str,
        client_id: str,
        roles: list[str],
        object_id: str,
        lifetime: int,
        credential: str,
        opaque: bool = False,
    ) -> tuple[str, int]:
        """Return (token, expires_in). ``roles`` is omitted when empty, as Entra ID does; an
        ``opaque`` token carries the same principal in the lookup table instead of claims."""
        now = int(time.time())
        if opaque:
            token = "EwB" + secrets.token_urlsafe(96)
            self._forget_expired(now)
            self._opaque[token] = Principal(tenant_id, client_id, frozenset(roles), float(now + lifetime))
            return token, lifetime
        claims: dict[str, Any] = {
            "aud": GRAPH_AUDIENCE,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": _b64(uuid.uuid4().bytes),
            "app_displayname": "emulated app",
            "appid": client_id,
            "azp": client_id,
            "appidacr": "2" if credential == "cert" else "1",
            "azpacr": "2" if credential == "cert" else "1",
            "idp": issuer,
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "tid": tenant_id,
            "uti": _b64(uuid.uuid4().bytes),
            "ver": "2.0",
        }
        if roles:
            claims["roles"] = sorted(roles)
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid})
        return token, lifetime

    def _forget_expired(self, now: float) -> None:
        if len(self._opaque) >= _CACHE_LIMIT:
            self._opaque = {t: p for t, p in self._opaque.items() if p.expires_at > now}

    def verify(self, token: str, now: float | None = None) -> Principal:
        """Principal of a token this emulator issued; TokenInvalid otherwise."""
        now = time.time() if now is None else now
        principal = self._cache.get(token) or self._opaque.get(token)
        if principal is None:
            try:
                claims = jwt.decode(
                    token,
                    self._public,
                    algorithms=["RS256"],
                    audience=GRAPH_AUDIENCE,
                    options={"verify_exp": False, "require": ["exp", "tid", "appid"]},
                )
            except jwt.InvalidAudienceError as exc:
                raise TokenInvalid("Invalid audience.") from exc
            except jwt.InvalidSignatureError as exc:
                raise TokenInvalid("Invalid signature.") from exc
            except jwt.PyJWTError as exc:
                raise TokenInvalid(
                    "IDX14100: JWT is not well formed, there are no dots (.). The token needs to be "
                    "in JWS or JWE Compact Serialization Format."
                    if token.count(".") != 2
                    else "Invalid token."
                ) from exc
            principal = Principal(
                claims["tid"], claims["appid"], frozenset(claims.get("roles", ())), float(claims["exp"])
            )
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = principal
        if now >= principal.expires_at:
            raise TokenInvalid("Lifetime validation failed, the token is expired.")
        return principal

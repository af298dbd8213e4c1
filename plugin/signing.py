"""HMAC-SHA256 signatures of hook deliveries: hosts sign, the plugin verifies.

The signed message is ``"<timestamp>.<raw body>"``, so neither the body nor the time can be changed
or replayed outside a 300 s window without the host secret. ``X-Hook-Key`` names the account's own
key when it has one (absent: the shared secret); it is not signed, since a changed name only picks
a secret the signature does not match.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Hook-Timestamp"
SIGNATURE_HEADER = "X-Hook-Signature"
KEY_HEADER = "X-Hook-Key"
MAX_SKEW_SECONDS = 300

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


class SignatureError(Exception):
    """A delivery is not proven to come from the host; the message never holds a secret or signature."""


class StaleTimestamp(SignatureError):
    """The delivery's timestamp is outside the window (a replay, or a clock far off)."""


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Return the ``X-Hook-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Raise :class:`SignatureError` unless the headers sign ``body`` within 300 s of ``now``."""
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError(f"malformed {TIMESTAMP_HEADER} header: expected unix seconds")
    if not _SIGNATURE.fullmatch(signature):
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: expected sha256=<64 hex digits>")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        raise StaleTimestamp(f"{TIMESTAMP_HEADER} is more than {MAX_SKEW_SECONDS} s from the plugin's clock")
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("ascii")):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def key_id(headers: Mapping[str, str]) -> str | None:
    """The ``X-Hook-Key`` the request names (stripped), or None when it names none."""
    try:
        return _header(headers, KEY_HEADER) or None
    except SignatureError:
        return None


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip()
    raise SignatureError(f"missing {name} header")

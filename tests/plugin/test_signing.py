"""Hook signatures: HMAC over "<timestamp>.<body>", 300 s of skew either way, secrets never echoed."""
from __future__ import annotations

import pytest

from plugin.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, sign, verify

SECRET = "host-secret-for-signing-tests"
BODY = b'{"id":"d1"}'
NOW = 1_900_000_000


def _headers(timestamp: int | str = NOW, body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"sha256={expected}"


@pytest.mark.parametrize("skew", [0, 300, -300])
def test_valid_signature_within_window(skew: int) -> None:
    verify(SECRET, _headers(NOW + skew), BODY, now=NOW)


def test_header_names_are_case_insensitive_and_hex_case_is_ignored() -> None:
    headers = {name.lower(): value.upper().replace("SHA256=", "sha256=")
               for name, value in _headers().items()}
    verify(SECRET, headers, BODY, now=NOW)


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({}, BODY, f"missing {TIMESTAMP_HEADER}"),
        ({TIMESTAMP_HEADER: str(NOW)}, BODY, f"missing {SIGNATURE_HEADER}"),
        ({**_headers(), TIMESTAMP_HEADER: "yesterday"}, BODY, f"malformed {TIMESTAMP_HEADER}"),
        ({**_headers(), TIMESTAMP_HEADER: "-5"}, BODY, f"malformed {TIMESTAMP_HEADER}"),
        ({**_headers(), SIGNATURE_HEADER: "sha1=abc"}, BODY, f"malformed {SIGNATURE_HEADER}"),
        (_headers(NOW - 301), BODY, "more than 300 s"),
        (_headers(NOW + 301), BODY, "more than 300 s"),
        (_headers(), BODY + b" ", "does not match"),
        (_headers(secret="another-secret"), BODY, "does not match"),
        ({**_headers(), TIMESTAMP_HEADER: str(NOW + 1)}, BODY, "does not match"),
    ],
)
def test_refused(headers: dict[str, str], body: bytes, message: str) -> None:
    with pytest.raises(SignatureError, match=message) as raised:
        verify(SECRET, headers, body, now=NOW)
    assert SECRET not in str(raised.value)
    assert sign(SECRET, NOW, BODY)[7:] not in str(raised.value)

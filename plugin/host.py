"""The Python side of the host contract, for hosts: sign and send hooks, make launch links, ask
for a user's calendar-feed address and for where a user stands.

The demo, the tests and any Python LMS talk to the plugin through this module, so they sign and
serialise exactly as the plugin verifies and validates.
"""
from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests
from itsdangerous import URLSafeTimedSerializer

from plugin.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

HOOK_PATH = "/hooks"
BATCH_PATH = "/hooks/batch"
SETTINGS_PATH = "/integrations/outlook"
FEED_ADDRESS_PATH = "/feeds/address"
USER_STATE_PATH = "/users/state"
LAUNCH_SALT = "lms-launch"


def dumps(obj: Any) -> bytes:
    """Serialise a body as the plugin expects: UTF-8 JSON, datetimes as RFC 3339 with offset."""
    return json.dumps(obj, default=_rfc3339, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _rfc3339(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} names no instant; give it a tzinfo")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def launch_url(base_url: str, host_secret: str, account: str, user_id: str, role: str,
               locale: str | None = None, key_id: str | None = None) -> str:
    """The settings-page address the LMS sends a user's browser to (the token lasts 300 s and opens
    the page once; a random ``nonce`` makes two links made in the same second differ).

    ``host_secret`` is the account's own key's secret, and ``key_id`` that key's id (it goes in the
    address as ``key``); without ``key_id``, the shared secret of a single-LMS install.

    ``locale`` (e.g. ``"ru"``, ``"ru-RU"``) is the user's language in the LMS: the page speaks it when the
    plugin has it, else the account's language, the browser's, or English.
    """
    claims = {"account": account, "user_id": user_id, "role": role, "nonce": secrets.token_urlsafe(12)}
    if locale is not None:
        claims["locale"] = locale
    token = URLSafeTimedSerializer(host_secret, salt=LAUNCH_SALT).dumps(claims)
    query = {"launch": token} if key_id is None else {"launch": token, "key": key_id}
    return f"{base_url.rstrip('/')}{SETTINGS_PATH}?{urlencode(query)}"


class HostClient:
    """Sends signed requests to one plugin installation, with the secret of host key ``key_id`` (named in
    ``X-Hook-Key``), or with the shared host secret when ``key_id`` is None."""

    def __init__(
        self, base_url: str, host_secret: str, session: requests.Session | None = None, timeout: float = 30,
        key_id: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = host_secret
        self.key_id = key_id
        self.session = session or requests.Session()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"HostClient({self.base_url!r})"

    @staticmethod
    def delivery(
        topic: str, account: str, data: Mapping[str, Any], delivery_id: str | None = None
    ) -> dict[str, Any]:
        """An envelope for ``data``, with a fresh delivery id unless one is given (for a retry)."""
        envelope_id = delivery_id or str(uuid.uuid4())
        return {"id": envelope_id, "topic": topic, "account": account, "data": dict(data)}

    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Headers that prove ``body`` comes from this host (timestamp defaults to now)."""
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(self._secret, stamp, body),
        }
        return headers if self.key_id is None else {**headers, KEY_HEADER: self.key_id}

    def send(
        self, topic: str, account: str, data: Mapping[str, Any], delivery_id: str | None = None
    ) -> requests.Response:
        """POST one delivery to ``/hooks``; 202 applied, 200 duplicate or stale."""
        return self._post(HOOK_PATH, self.delivery(topic, account, data, delivery_id))

    def send_batch(self, deliveries: Sequence[Mapping[str, Any]]) -> requests.Response:
        """POST up to 1,000 envelopes (from :meth:`delivery`) to ``/hooks/batch`` as one unit."""
        return self._post(BATCH_PATH, {"deliveries": list(deliveries)})

    @staticmethod
    def feed_request(account: str, user_id: str, action: str = "get", request_id: str | None = None) -> dict[str, Any]:
        """The body of a feed-address call, with a fresh ``request_id`` unless one is given."""
        return {"account": account, "user_id": user_id, "action": action, "request_id": request_id or str(uuid.uuid4())}

    def feed_address(self, account: str, user_id: str, action: str = "get",
                     request_id: str | None = None) -> requests.Response:
        """Ask for a user's calendar-feed address (``action``: get, rotate or revoke).

        200 with ``{"offered", "reason", "url", "webcal_url", "issued_at"}``; ``url`` is given only in
        the answer that made the address (the plugin keeps a hash), so keep it or rotate for a new one.
        Each call has a fresh ``request_id`` (unless one is given); a repeated one answers 409.
        """
        return self._post(FEED_ADDRESS_PATH, self.feed_request(account, user_id, action, request_id))

    def user_state(self, account: str, user_id: str, locale: str | None = None,
                   request_id: str | None = None) -> requests.Response:
        """Ask where one user stands, to show it to them (``locale``: their language, e.g. ``"ru"``).

        200 with ``{"state", "reason", "reaches_outlook", "message", "reason_text", "feed", …}``, the words
        in that language when the plugin has it; 404 when the account has no such user; 409 for a
        repeated ``request_id`` (a fresh one unless given).
        """
        body = {"account": account, "user_id": user_id, "request_id": request_id or str(uuid.uuid4())}
        return self._post(USER_STATE_PATH, body if locale is None else {**body, "locale": locale})

    def _post(self, path: str, obj: Any) -> requests.Response:
        body = dumps(obj)
        return self.session.post(
            self.base_url + path, data=body, headers=self.signed_headers(body), timeout=self.timeout
        )

"""One pooled HTTP session to Graph; every answer becomes data or a typed error.

``Retry-After`` is handled here, in one place, for reads and writes alike: a 429 waits and tries
again (the request was not applied). A 5xx, timeout or reset on a read or an idempotent write is
retried with exponential backoff and jitter; on a create its outcome is unknown, so it is raised
for the reconciler to resolve by the entry's tag. At most four requests are in flight per mailbox.
"""
from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from bridge import metrics
from bridge.graph import errors
from bridge.graph.auth import TokenSource

PER_MAILBOX = 4
TIMEOUT = (5.0, 30.0)
MAX_WAIT = 120.0


def pooled_session(pool_size: int, verify: str | bool) -> requests.Session:
    """A ``requests.Session`` with a connection pool sized for the worker's concurrency."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 10), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = verify
    session.trust_env = False  # REQUESTS_CA_BUNDLE must not override the configured bundle
    return session


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff for the n-th retry (0-based)."""
    return random.uniform(0, min(cap, base * 2**attempt))


def odata_string(value: str) -> str:
    """A string literal for an OData ``$filter`` (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _error_of(body: Any) -> tuple[str, str]:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    if isinstance(error, dict):
        return str(error.get("code", "")), str(error.get("message", ""))
    return str(error), ""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_for(status: int, body: Any, headers: Mapping[str, str]) -> errors.GraphError | None:
    """The typed error for a Graph answer (a response or one item of a ``$batch``), or None if 2xx."""
    if status < 400:
        return None
    code, message = _error_of(body)
    text = f"{status} {code}: {message}".strip()
    if status == 429:
        return errors.Throttled(text, _retry_after(headers) or 0.0, code=code, status=status)
    if status >= 500:
        return errors.Transient(text, _retry_after(headers), code=code, status=status)
    if status == 404 and code in ("MailboxNotEnabledForRESTAPI", "MailboxNotSupportedForRESTAPI"):
        return errors.MailboxUnreachable(text, errors.MAILBOX_NOT_IN_EXCHANGE_ONLINE, code=code, status=status)
    if status == 404 and code in ("ErrorInvalidUser", "Request_ResourceNotFound"):
        return errors.MailboxUnreachable(text, errors.USER_NOT_FOUND, code=code, status=status)
    if status == 404:
        return errors.NotFound(text, code=code, status=status)
    if status == 403 and "OData is disabled" in message:
        return errors.MailboxUnreachable(text, errors.ACCESS_DENIED_BY_POLICY, code=code, status=status)
    if status in (401, 403):
        return errors.AuthFailed(text, errors.PERMISSION_MISSING, code=code, status=status)
    return errors.BadRequest(text, code=code, status=status)


def raise_for(response: requests.Response) -> None:
    """Raise the typed error of a non-2xx Graph answer."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {"error": {"code": "", "message": response.text[:200]}}
    error = error_for(response.status_code, body, response.headers)
    if error is not None:
        raise error


class GraphHttp:
    """Sends Graph requests for a tenant with its token, limits and retries."""

    def __init__(self, graph_url: str, tokens: TokenSource, session: requests.Session,
                 sleep: Callable[[float], None] = time.sleep, transient_retries: int = 2) -> None:
        self.graph_url = graph_url.rstrip("/")
        self._tokens = tokens
        self._session = session
        self._sleep = sleep
        self._transient_retries = transient_retries
        self._mailbox_slots: defaultdict[tuple[str, str], threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(PER_MAILBOX)
        )
        self._slots_lock = threading.Lock()

    @contextmanager
    def _slot(self, tenant_id: str, mailbox: str | None) -> Iterator[None]:
        if mailbox is None:
            yield
            return
        with self._slots_lock:
            slot = self._mailbox_slots[(tenant_id, mailbox)]
        with slot:
            yield

    def request(self, tenant_id: str, method: str, path: str, *, mailbox: str | None = None,
                json: Any = None, params: dict[str, str] | None = None,
                headers: dict[str, str] | None = None, idempotent: bool | None = None) -> Any:
        """Send one request; return the decoded JSON body (``None`` for 204)."""
        url = path if path.startswith("https://") else f"{self.graph_url}{path}"
        idempotent = method != "POST" if idempotent is None else idempotent
        transient_left = self._transient_retries if idempotent else 0
        throttled = 0
        while True:
            try:
                response = self._attempt(tenant_id, method, url, json, params, headers, mailbox)
                return response.json() if response.content else None
            except errors.Throttled as exc:
                wait = exc.retry_after or backoff(throttled, base=1.0)
                metrics.throttled()
                if wait > MAX_WAIT or throttled >= 6:
                    raise
                throttled += 1
                metrics.waited(wait)
                self._sleep(wait)
            except errors.Transient as exc:
                if transient_left <= 0:
                    raise
                self._sleep(exc.retry_after or backoff(self._transient_retries - transient_left))
                transient_left -= 1

    def batch(self, tenant_id: str, items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Send up to 20 requests as one ``$batch``; each item's answer by its id.

        The envelope's own 429 is waited out like any request; a lost envelope (timeout, reset, 5xx)
        raises :class:`errors.Transient`, leaving the outcome of every write in it unknown.
        """
        answer = self.request(tenant_id, "POST", "/$batch", json={"requests": items}, idempotent=False)
        return {str(item["id"]): item for item in answer.get("responses", [])}

    def close(self) -> None:
        self._session.close()

    def _attempt(self, tenant_id: str, method: str, url: str, json: Any, params: dict[str, str] | None,
                 headers: dict[str, str] | None, mailbox: str | None) -> requests.Response:
        """Send once and raise the typed error of a non-2xx answer; a calendar write is counted."""
        write = method in ("POST", "PATCH", "DELETE") and not url.endswith("/$batch")
        try:
            with self._slot(tenant_id, mailbox):
                response = self._send(tenant_id, method, url, json, params, headers)
            raise_for(response)
        except errors.GraphError as exc:
            if write:
                metrics.graph_write(method, exc)
            raise
        if write:
            metrics.graph_write(method, None)
        return response

    def _send(self, tenant_id: str, method: str, url: str, json: Any,
              params: dict[str, str] | None, headers: dict[str, str] | None) -> requests.Response:
        token = self._tokens.token(tenant_id)
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        try:
            response = self._session.request(method, url, json=json, params=params, headers=all_headers,
                                             timeout=TIMEOUT)
        except requests.Timeout as exc:
            metrics.graph_request(method, "timeout")
            raise errors.Transient(f"{method} timed out", code="Timeout") from exc
        except requests.ConnectionError as exc:
            metrics.graph_request(method, "connection_error")
            raise errors.Transient(f"{method} connection failed: {type(exc).__name__}",
                                   code="ConnectionError") from exc
        metrics.graph_request(method, response.status_code)
        return response

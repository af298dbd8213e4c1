"""The raw wire to Graph, private to :mod:`bridge.graph`: pooled HTTPS connections, a tenant's token,
one request or one ``$batch`` envelope at a time, answers returned as they came.

Graph's requests go through urllib3 directly: ``requests`` (kept for MSAL's token requests) spent
more CPU preparing each request — merging settings, cookies, hooks — than the rest of sending it
(BENCHMARKS.md, B1). No retry, wait or limit lives here: :mod:`bridge.graph.exchange` decides all of that.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import certifi
import orjson
import requests
import urllib3
from requests.adapters import HTTPAdapter

from bridge import metrics
from bridge.graph import errors
from bridge.graph.auth import TokenSource
from bridge.graph.wire import Reply, Request, envelope

TIMEOUT = urllib3.Timeout(connect=5.0, read=30.0)


def pooled_session(pool_size: int, verify: str | bool) -> requests.Session:
    """A ``requests.Session`` with a connection pool sized for the worker's concurrency (MSAL's)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 10), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = verify
    session.trust_env = False  # REQUESTS_CA_BUNDLE must not override the configured bundle
    return session


def graph_pool(pool_size: int, verify: str | bool) -> urllib3.PoolManager:
    """Connections to Graph for the worker's threads: ``pool_size`` kept alive per host (at least 10),
    certificates checked against ``verify`` — a CA bundle's path, True for certifi's (as ``requests``
    does), False for none — no retry and no redirect (a write is sent once, to where it was meant)."""
    if verify is False:
        return urllib3.PoolManager(num_pools=4, maxsize=max(pool_size, 10), cert_reqs="CERT_NONE", retries=False)
    return urllib3.PoolManager(num_pools=4, maxsize=max(pool_size, 10), cert_reqs="CERT_REQUIRED",
                               ca_certs=verify if isinstance(verify, str) else certifi.where(), retries=False)


def _body(response: urllib3.BaseHTTPResponse) -> Any:
    """The answer's JSON (orjson: a ``$batch`` answer carries twenty whole events, and decoding them
    was the largest share of a pass's CPU left to JSON, BENCHMARKS.md B1), or a Graph-shaped error
    holding the start of a body that is not JSON."""
    if not response.data:
        return None
    try:
        return orjson.loads(response.data)
    except ValueError:
        return {"error": {"code": "", "message": response.data[:200].decode(errors="replace")}}


class HttpTransport:
    """Sends requests for a tenant with its token (:class:`bridge.graph.wire.Transport`).

    One request goes as itself; several go as one ``$batch`` envelope (at most 20 and 4 MB, Graph's
    limits; the exchange chunks). An envelope answered with an error gives every item that answer. A
    timeout or reset raises :class:`errors.Transient` (the outcome of the writes is unknown);
    a tenant refusing a token raises :class:`errors.AuthFailed`.
    """

    def __init__(self, graph_url: str, tokens: TokenSource, pool: urllib3.PoolManager) -> None:
        self.graph_url = graph_url.rstrip("/")
        self._tokens = tokens
        self._pool = pool

    def send(self, tenant_id: str, batch: Sequence[Request]) -> list[Reply]:
        if len(batch) == 1:
            one = batch[0]
            response = self._post(tenant_id, one.method, self.graph_url + one.path, one.body_text, dict(one.headers))
            return [Reply(response.status, dict(response.headers), _body(response))]
        response = self._post(tenant_id, "POST", f"{self.graph_url}/$batch", envelope(batch), {})
        answered = _body(response)
        if response.status >= 300 or not isinstance(answered, dict):
            whole = Reply(response.status, dict(response.headers), answered)
            return [whole for _ in batch]
        by_id = {str(item.get("id")): item for item in answered.get("responses", [])}
        missing = {"status": 500, "body": {"error": {"code": "MissingItem", "message": "no answer"}}}
        return [Reply(int(a.get("status", 500)), a.get("headers") or {}, a.get("body"))
                for a in (by_id.get(str(n), missing) for n in range(len(batch)))]

    def _post(self, tenant_id: str, method: str, url: str, data: str | None,
              headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        """Send ``data`` (JSON as sent, or None: no body) with the tenant's token; a timeout or reset
        raises :class:`errors.Transient`."""
        token = self._tokens.token(tenant_id)
        all_headers = {"Authorization": f"Bearer {token}", **headers}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            response = self._pool.request(method, url, body=data.encode() if data is not None else None,
                                          headers=all_headers, timeout=TIMEOUT, retries=False, redirect=False)
        except urllib3.exceptions.TimeoutError as exc:
            metrics.graph_request(method, "timeout")
            raise errors.Transient(f"{method} timed out", code="Timeout") from exc
        except urllib3.exceptions.HTTPError as exc:  # refused, reset, TLS failure: the answer is lost
            metrics.graph_request(method, "connection_error")
            raise errors.Transient(f"{method} connection failed: {type(exc).__name__}",
                                   code="ConnectionError") from exc
        metrics.graph_request(method, response.status)
        return response

    def close(self) -> None:
        self._pool.clear()

"""The shapes on the wire: a request, its raw answer, the transport that carries them, and the typing
of every non-2xx answer (of a request, or of one item of a ``$batch``) into :mod:`bridge.graph.errors`.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from bridge.codes import Reason, TenantReason
from bridge.graph import errors

IMMUTABLE_IDS = {"Prefer": 'IdType="ImmutableId"'}
# Graph refuses a request larger than 4 MB with 413 (learn.microsoft.com/graph/errors: "413 Request
# Entity Too Large"; learn.microsoft.com/graph/outlook-large-attachments: a request up to 4 MB in
# total) — a $batch envelope included. Counted in bytes as sent, 4,000,000 (never more than 4 MiB).
MAX_REQUEST_BYTES = 4_000_000
ENVELOPE_BYTES = len('{"requests":[]}')


@dataclass(frozen=True)
class Request:
    """One Graph request: ``path`` is relative to the Graph base URL, query included (``/users/…``);
    ``mailbox`` names the mailbox it touches (for the per-mailbox limit), if any."""

    method: str
    path: str
    body: Any = None
    mailbox: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def reads(self) -> bool:
        return self.method == "GET"

    @functools.cached_property
    def body_text(self) -> str | None:
        """The body as sent (:func:`encoded`), encoded once however often it is measured and sent."""
        return None if self.body is None else encoded(self.body)

    @functools.cached_property
    def item_text(self) -> str:
        """The request as an item of a ``$batch`` envelope without its id, encoded once:
        ``"method":…,"url":…,"headers":…,"body":…`` (:func:`envelope_item` adds the braces and id)."""
        headers = {**self.headers, **({"Content-Type": "application/json"} if self.body is not None else {})}
        head = encoded({"method": self.method, "url": self.path, "headers": headers})[1:-1]
        return head if self.body_text is None else f'{head},"body":{self.body_text}'


@dataclass(frozen=True)
class Reply:
    """A raw answer: HTTP status, headers and decoded JSON body (``None`` when empty)."""

    status: int
    headers: Mapping[str, str]
    body: Any


def envelope_item(n: int, request: Request) -> str:
    """Request ``n`` as an item of a ``$batch`` envelope (learn.microsoft.com/graph/json-batching),
    encoded: ``{"id":…,"method":…,"url":…,"headers":…,"body":…}`` (:attr:`Request.item_text`)."""
    return f'{{"id":"{n}",{request.item_text}}}'


def envelope(batch: Sequence[Request]) -> str:
    """The ``$batch`` body for these requests, encoded: ``{"requests":[item,…]}`` with ids 0, 1, …"""
    return '{"requests":[' + ",".join(envelope_item(n, r) for n, r in enumerate(batch)) + "]}"


def encoded(body: Any) -> str:
    """A JSON body as it is sent (compact, non-ASCII escaped: one byte per character)."""
    return json.dumps(body, separators=(",", ":"))


def item_bytes(request: Request) -> int:
    """Bytes ``request`` takes in a ``$batch`` envelope, its separating comma included (the id counted
    at two digits: an envelope holds at most 20)."""
    return len(envelope_item(10, request)) + 1


class Transport(Protocol):
    """Carries requests to Graph (over HTTPS, or to the in-memory tenant) and brings back answers.

    ``send`` takes at most 20 requests and answers each in order; it raises
    :class:`errors.Transient` when the answers are lost (the writes may or may not have been
    applied) and :class:`errors.AuthFailed` when the tenant refuses the app a token.
    """

    def send(self, tenant_id: str, batch: Sequence[Request]) -> list[Reply]: ...

    def close(self) -> None: ...


def path(*segments: str, **query: str) -> str:
    """``/seg/seg?query`` with every segment quoted (an address keeps its ``@``)."""
    built = "".join(map(_segment, segments))
    return f"{built}?{urlencode(query)}" if query else built


@functools.lru_cache(maxsize=4096)
def _segment(text: str) -> str:
    """``/text`` quoted for a path: kept for the latest 4,096 (mailboxes, ids and the fixed words
    recur in every pass)."""
    return "/" + quote(text, safe="@")


def odata_string(value: str) -> str:
    """A string literal for an OData ``$filter`` (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _error_of(body: Any) -> tuple[str, str]:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    if isinstance(error, dict):
        return str(error.get("code", "")), str(error.get("message", ""))
    return str(error), ""


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Graph's ``Retry-After`` in seconds (fractions allowed), if the answer carries one."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def throttle_scope(headers: Mapping[str, str]) -> str:
    """What a 429 paused, from Graph's ``x-ms-throttle-scope`` header
    (``<Scope>/<Limit>/<ApplicationId>/<TenantId|UserId|ResourceId>``; learn.microsoft.com/graph/
    throttling-limits, "Throttled responses requests"): ``Tenant_Application`` and ``Tenant`` pause the
    tenant, ``Application`` every tenant (:data:`errors.TENANT`, :data:`errors.APP`). Without it, Outlook's
    limits are per app and mailbox (facts.md, Throttling): the mailbox (:data:`errors.MAILBOX`)."""
    value = next((v for k, v in headers.items() if k.lower() == "x-ms-throttle-scope"), "")
    scope = value.split("/", 1)[0].strip().lower()
    if scope in ("tenant_application", "tenant"):
        return errors.TENANT
    return errors.APP if scope == "application" else errors.MAILBOX


def error_for(reply: Reply, *, scoped: bool = False, mailbox: str | None = None) -> errors.GraphError | None:
    """The typed error for a Graph answer (a response or one item of a ``$batch``), or None if 2xx.

    ``scoped``: the request reached a mailbox of a tenant that grants calendar access through an
    Exchange scope (:attr:`bridge.codes.AccessGrant.EXCHANGE_SCOPE`). Graph answers a mailbox outside
    that scope as it answers a missing permission, 403 ``ErrorAccessDenied`` "Access is denied. Check
    credentials and try again." (facts.md, RBAC for Applications): there it is this user's mailbox
    (:data:`Reason.OUTSIDE_EXCHANGE_SCOPE`); otherwise the whole tenant lacks the permission.
    An application access policy's refusal ("Access to OData is disabled.") is told apart by its text.
    ``mailbox``: the mailbox the request was for, carried by a :class:`errors.Throttled`.
    """
    status = reply.status
    if status < 400:
        return None
    code, message = _error_of(reply.body)
    text = f"{status} {code}: {message}".strip()
    if status == 429:
        return errors.Throttled(text, retry_after(reply.headers) or 0.0, scope=throttle_scope(reply.headers),
                                mailbox=mailbox, code=code, status=status)
    if status >= 500:
        return errors.Transient(text, retry_after(reply.headers), code=code, status=status)
    if status == 404 and code in ("MailboxNotEnabledForRESTAPI", "MailboxNotSupportedForRESTAPI"):
        return errors.MailboxUnreachable(text, Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE, code=code, status=status)
    if status == 404 and code in ("ErrorInvalidUser", "Request_ResourceNotFound"):
        return errors.MailboxUnreachable(text, Reason.USER_NOT_FOUND, code=code, status=status)
    if status == 404:
        return errors.NotFound(text, code=code, status=status)
    if status == 403 and "OData is disabled" in message:
        return errors.MailboxUnreachable(text, Reason.ACCESS_DENIED_BY_POLICY, code=code, status=status)
    if status == 403 and scoped and code == "ErrorAccessDenied":
        return errors.MailboxUnreachable(text, Reason.OUTSIDE_EXCHANGE_SCOPE, code=code, status=status)
    if status in (401, 403):
        return errors.AuthFailed(text, TenantReason.PERMISSION_MISSING, code=code, status=status)
    return errors.BadRequest(text, code=code, status=status)

"""The shapes on the wire: a request, its raw answer, the transport that carries them, and the typing
of every non-2xx answer (of a request, or of one item of a ``$batch``) into :mod:`bridge.graph.errors`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from bridge.codes import Reason, TenantReason
from bridge.graph import errors

IMMUTABLE_IDS = {"Prefer": 'IdType="ImmutableId"'}


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


@dataclass(frozen=True)
class Reply:
    """A raw answer: HTTP status, headers and decoded JSON body (``None`` when empty)."""

    status: int
    headers: Mapping[str, str]
    body: Any


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
    built = "".join("/" + quote(s, safe="@") for s in segments)
    return f"{built}?{urlencode(query)}" if query else built


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


def error_for(reply: Reply, *, scoped: bool = False) -> errors.GraphError | None:
    """The typed error for a Graph answer (a response or one item of a ``$batch``), or None if 2xx.

    ``scoped``: the request reached a mailbox of a tenant that grants calendar access through an
    Exchange scope (:attr:`bridge.codes.AccessGrant.EXCHANGE_SCOPE`). Graph answers a mailbox outside
    that scope as it answers a missing permission, 403 ``ErrorAccessDenied`` "Access is denied. Check
    credentials and try again." (facts.md, RBAC for Applications): there it is this user's mailbox
    (:data:`Reason.OUTSIDE_EXCHANGE_SCOPE`); otherwise the whole tenant lacks the permission.
    An application access policy's refusal ("Access to OData is disabled.") is told apart by its text.
    """
    status = reply.status
    if status < 400:
        return None
    code, message = _error_of(reply.body)
    text = f"{status} {code}: {message}".strip()
    if status == 429:
        return errors.Throttled(text, retry_after(reply.headers) or 0.0, code=code, status=status)
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

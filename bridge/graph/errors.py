"""Every non-2xx answer from Graph or the identity platform becomes one of these.

The reconciler and worker branch on the type, never on message text.
"""
from __future__ import annotations

from bridge.codes import Reason


class GraphError(Exception):
    """Base: ``code`` is Graph's error code (or ours), ``status`` the HTTP status if any."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Throttled(GraphError):
    """429: try again after ``retry_after`` seconds; the request was not applied."""

    def __init__(self, message: str, retry_after: float, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class Transient(GraphError):
    """5xx, timeout or reset: the outcome of a write is unknown; retry later."""

    def __init__(self, message: str, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class NotFound(GraphError):
    """The entry (or user) is not there."""


class BadRequest(GraphError):
    """Graph refused the body or query: a bug on our side, not worth retrying soon."""


# Why a user's mailbox cannot be reached; shown per user on the page.
MAILBOX_NOT_IN_EXCHANGE_ONLINE = "mailbox_not_in_exchange_online"
USER_NOT_FOUND = "user_not_found"
ACCESS_DENIED_BY_POLICY = "access_denied_by_policy"
OUTSIDE_EXCHANGE_SCOPE = Reason.OUTSIDE_EXCHANGE_SCOPE


class MailboxUnreachable(GraphError):
    """This user's mailbox cannot be written (on-premises, unlicensed, unknown, policy, outside the
    app's Exchange scope)."""

    def __init__(self, message: str, reason: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.reason = reason


# Why a whole tenant stopped working; shown on the page as the connection's reason.
CONSENT_MISSING = "consent_missing"
PERMISSION_MISSING = "permission_missing"
SECRET_INVALID = "secret_invalid"
SECRET_EXPIRED = "secret_expired"
TENANT_NOT_FOUND = "tenant_not_found"
APP_NOT_FOUND = "app_not_found"
AUTH_FAILED = "auth_failed"


class AuthFailed(GraphError):
    """The tenant as a whole refuses us: stop its work until the owner reconnects."""

    def __init__(self, message: str, reason: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.reason = reason


def outcome_of(error: GraphError | None) -> str:
    """``ok``, ``throttled``, ``transient`` (lost or 5xx: outcome unknown), ``not_found``,
    ``mailbox_unreachable``, ``auth_failed`` or ``bad_request``."""
    if error is None:
        return "ok"
    names = {Throttled: "throttled", Transient: "transient", NotFound: "not_found",
             MailboxUnreachable: "mailbox_unreachable", AuthFailed: "auth_failed"}
    return next((name for kind, name in names.items() if isinstance(error, kind)), "bad_request")

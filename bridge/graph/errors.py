"""Every non-2xx answer from Graph or the identity platform becomes one of these
(:func:`bridge.graph.wire.error_for`; the token source in :mod:`bridge.graph.auth`).

The tree, and what the caller does with each::

    GraphError              base: Graph's error ``code`` (or ours) and the HTTP ``status``
    ├── Throttled           429: nothing was applied; ``scope`` says what Graph paused (the
    │                       ``mailbox``, the tenant, the whole app): that is held until
    │                       ``retry_after`` seconds from now, the user retried then (bridge.queue.retry)
    ├── Transient           5xx, timeout, reset: a write's outcome is unknown; its record stays "in
    │                       flight", the next pass finds the entry by its tag; retried with backoff
    ├── NotFound            404 on an entry: an update's entry was deleted in Outlook (kept gone until
    │                       a material change); a deletion's is already gone (done)
    ├── BadRequest          any other 4xx: a bug on our side; retried slowly, then given up
    ├── MailboxUnreachable  the user's mailbox cannot be written (``reason``: a
    │                       :class:`~bridge.codes.Reason` such as on-premises, no such user, policy):
    │                       the user fails with that reason, shown on the page; others go on
    └── AuthFailed          the tenant as a whole refuses us (``reason``: a
                            :class:`~bridge.codes.TenantReason`): the account is suspended, its
                            keys put back, and the tenant probed again with backoff; it resumes
                            when the tenant answers (the owner's fix: consent, a new secret)

The reconciler and worker branch on the type (and the reason codes), never on message text.
"""
from __future__ import annotations

from bridge.codes import Reason, TenantReason, WriteOutcome


class GraphError(Exception):
    """Base: ``code`` is Graph's error code (or ours), ``status`` the HTTP status if any."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Throttled(GraphError):
    """429: try again after ``retry_after`` seconds; the request was not applied.

    ``scope`` is what Graph throttled (:data:`MAILBOX`, :data:`TENANT` or :data:`APP`, from its
    ``x-ms-throttle-scope`` header: :func:`bridge.graph.wire.throttle_scope`) and ``mailbox`` the
    mailbox the request was for (None for a directory request).
    """

    def __init__(self, message: str, retry_after: float, *, scope: str = "mailbox", mailbox: str | None = None,
                 **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.scope = scope
        self.mailbox = mailbox


MAILBOX, TENANT, APP = "mailbox", "tenant", "app"  # what a Throttled pauses


class Transient(GraphError):
    """5xx, timeout or reset: the outcome of a write is unknown; retry later."""

    def __init__(self, message: str, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class NotFound(GraphError):
    """The entry (or user) is not there."""


class BadRequest(GraphError):
    """Graph refused the body or query: a bug on our side, not worth retrying soon."""


class MailboxUnreachable(GraphError):
    """This user's mailbox cannot be written (on-premises, unlicensed, unknown, policy, outside the
    app's Exchange scope); ``reason`` says which, per user on the page."""

    def __init__(self, message: str, reason: Reason, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.reason = reason


class AuthFailed(GraphError):
    """The tenant as a whole refuses us: stop its work until the owner reconnects; ``reason`` is the
    connection's reason on the page."""

    def __init__(self, message: str, reason: TenantReason, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.reason = reason


_OUTCOMES = {Throttled: WriteOutcome.THROTTLED, Transient: WriteOutcome.TRANSIENT, NotFound: WriteOutcome.NOT_FOUND,
             MailboxUnreachable: WriteOutcome.MAILBOX_UNREACHABLE, AuthFailed: WriteOutcome.AUTH_FAILED}


def outcome_of(error: GraphError | None) -> WriteOutcome:
    """How a request ended, for its metric: ``ok``, or the kind of its error (``bad_request`` for any
    other)."""
    if error is None:
        return WriteOutcome.OK
    return next((outcome for kind, outcome in _OUTCOMES.items() if isinstance(error, kind)), WriteOutcome.BAD_REQUEST)

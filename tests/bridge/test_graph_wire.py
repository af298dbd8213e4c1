"""How Graph's answers are typed (bridge.graph.wire.error_for): the refusals a user or a tenant is told
apart by, and what the tenant's way of granting access (bridge.codes.AccessGrant) changes."""
from __future__ import annotations

import pytest

from bridge.codes import Reason, TenantReason
from bridge.graph import errors
from bridge.graph.wire import Reply, error_for

DENIED = {"error": {"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}}
POLICY = {"error": {"code": "ErrorAccessDenied", "message": "Access to OData is disabled."}}
DIRECTORY = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the "
                                                                         "operation."}}


def typed(status: int, body: object, *, scoped: bool = False) -> tuple[type, str | None]:
    error = error_for(Reply(status, {}, body), scoped=scoped)
    assert error is not None
    return type(error), getattr(error, "reason", None)


@pytest.mark.parametrize(("status", "body", "scoped", "expected"), [
    # whole organisation: the permission is Entra's, so a refusal is the tenant's
    (403, DENIED, False, (errors.AuthFailed, TenantReason.PERMISSION_MISSING)),
    # scoped in Exchange: the same answer is this mailbox, outside the app's scope
    (403, DENIED, True, (errors.MailboxUnreachable, Reason.OUTSIDE_EXCHANGE_SCOPE)),
    # an application access policy says so in its text, whatever the grant
    (403, POLICY, False, (errors.MailboxUnreachable, Reason.ACCESS_DENIED_BY_POLICY)),
    (403, POLICY, True, (errors.MailboxUnreachable, Reason.ACCESS_DENIED_BY_POLICY)),
    # the directory's refusal is Entra's in both ways of granting (scoped is only set for mailboxes)
    (403, DIRECTORY, False, (errors.AuthFailed, TenantReason.PERMISSION_MISSING)),
    (404, {"error": {"code": "ErrorInvalidUser", "message": "x"}}, True, (errors.MailboxUnreachable,
                                                                          Reason.USER_NOT_FOUND)),
    (401, {"error": {"code": "InvalidAuthenticationToken", "message": "x"}}, True,
     (errors.AuthFailed, TenantReason.PERMISSION_MISSING)),
])
def test_refusals(status: int, body: object, scoped: bool, expected: tuple[type, str]) -> None:
    assert typed(status, body, scoped=scoped) == expected


def test_the_message_keeps_graph_s_words() -> None:
    error = error_for(Reply(403, {}, DENIED), scoped=True)
    assert str(error) == "403 ErrorAccessDenied: Access is denied. Check credentials and try again."
    assert error is not None and (error.status, error.code) == (403, "ErrorAccessDenied")


def test_a_success_is_no_error() -> None:
    assert error_for(Reply(201, {}, {"id": "x"}), scoped=True) is None

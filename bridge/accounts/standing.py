"""One user's answer to "do my sessions reach Outlook, and if not, why?" (the LMS's signed call
``POST /users/state``, docs/HOST-CONTRACT.md §6).

The answer is read from what the bridge already keeps: the account's connection, the user's row of
:mod:`bridge.accounts.status` (queued, or the outcome of their last pass, with its reason) and that
last outcome itself. :func:`decide` is the rule, a pure function; :func:`load` reads its inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bridge.accounts import status
from bridge.codes import GRAPH_STATES, ConnectionState, Reason, UserState
from bridge.models import Connection
from bridge.models import UserState as UserStateRow


@dataclass(frozen=True)
class Standing:
    """Where one user stands.

    ``state`` is the page's state (queued, or the outcome of the last pass); ``reason`` a
    :class:`~bridge.codes.Reason` code or None; ``reaches_outlook`` whether the user's sessions are
    written to their Outlook calendar (the last pass wrote them and the tenant is connected; a change
    on its way does not undo that); ``entries`` how many entries the bridge keeps for them;
    ``changed_at`` when the last pass ended (UTC), None before the first.
    """

    connection: str
    state: str
    reason: str | None
    reaches_outlook: bool
    entries: int
    changed_at: datetime | None


def decide(connection: str, row: status.UserRow, last_outcome: str | None) -> Standing:
    """The rule: without a tenant Graph reaches (not connected, consent pending, disconnecting…) nobody's
    sessions reach Outlook and the reason is ``not_connected``; with one, those whose last pass
    synced do, and everyone else has the reason their row gives."""
    if connection not in GRAPH_STATES:
        return Standing(connection, row.state, Reason.NOT_CONNECTED, False, row.entries, row.changed_at)
    reaches = connection == ConnectionState.CONNECTED and last_outcome == UserState.SYNCED
    return Standing(connection, row.state, row.reason, reaches, row.entries, row.changed_at)


def load(session: Session, account_id: str, user_id: str) -> Standing | None:
    """The user's standing in this account only; None when the account has no such user (or it was
    deleted), so no account is ever answered about another's users."""
    row = status.user(session, account_id, user_id)
    if row is None:
        return None
    conn = session.get(Connection, account_id)
    last = session.get(UserStateRow, (account_id, user_id))
    return decide(conn.state if conn is not None else ConnectionState.DISCONNECTED, row,
                  last.state if last is not None else None)

"""A user's own sync state in plain words, for the user themselves (the page's words, plugin/words.py, are
for the account's administrators).

Each text is a lazy gettext message, put into the asked language where the answer is made.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from bridge.accounts.standing import Standing
from bridge.codes import ConnectionState, Reason, UserState

REACHES = _l("Your sessions reach your Outlook calendar.")
ON_THE_WAY = _l("Your sessions are on their way to your Outlook calendar.")
NOT_REACHING = _l("Your sessions do not reach your Outlook calendar.")
SUSPENDED = _l("The connection to your organisation's Outlook is interrupted. The LMS administrators see why "
               "on their page.")
RETRYING = _l("Outlook could not be reached for you just now. It is tried again automatically.")

REASONS: dict[str, LazyString] = {
    Reason.PERSONAL_EMAIL: _l(
        "Your e-mail address in the LMS is a personal one (such as Gmail), which your organisation's Outlook "
        "cannot write to. Ask the LMS administrators to use your work address."),
    Reason.INACTIVE: _l("Your account in the LMS is not active."),
    Reason.DELETED: _l("Your account in the LMS was deleted."),
    Reason.NO_EMAIL: _l("The LMS has no e-mail address for you. Ask the LMS administrators to add your work address."),
    Reason.DOMAIN_NOT_IN_TENANT: _l(
        "Your e-mail address in the LMS does not belong to your organisation's Microsoft 365. Ask the LMS "
        "administrators to use your work address."),
    Reason.NO_SESSION_CHOSEN: _l("You are enrolled, but you have not chosen a session yet."),
    Reason.NO_UPCOMING_SESSIONS: _l("You have no upcoming sessions at the moment."),
    Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE: _l(
        "Your mailbox is not in Exchange Online (it is on your organisation's own mail server, or has no "
        "licence). Your IT department can move it."),
    Reason.USER_NOT_FOUND: _l(
        "Your organisation's Microsoft 365 does not know your e-mail address. Ask the LMS administrators to "
        "check it."),
    Reason.ACCESS_DENIED_BY_POLICY: _l(
        "Your organisation's Exchange settings do not let the LMS write to your calendar. Your IT department "
        "can allow it."),
    Reason.OUTSIDE_EXCHANGE_SCOPE: _l(
        "Your organisation lets the LMS write only to the calendars of a group of people in Exchange, and you "
        "are not in it. Your IT department can add you."),
    Reason.ERROR: _l("Outlook answered with an error. It is tried again automatically."),
    Reason.GRAPH_ERROR: _l("Outlook could not be asked about your calendar just now. It is tried again."),
    Reason.NOT_CONNECTED: _l("Your organisation has not connected its Outlook to the LMS."),
    Reason.DISCONNECTED: _l("Your organisation disconnected its Outlook from the LMS, and the entries were removed."),
    Reason.REMOVAL_HELD: _l("Some changes wait until an administrator of the LMS confirms them."),
}


def message(found: Standing) -> str:
    """Whether the user's sessions reach Outlook, in one sentence."""
    if found.reaches_outlook:
        return str(REACHES)
    waiting = found.state in (UserState.PENDING, UserState.RETRYING) and found.reason is None
    if waiting and found.connection == ConnectionState.CONNECTED:
        return str(ON_THE_WAY)
    return str(NOT_REACHING)


def reason_text(found: Standing) -> str | None:
    """Why (or what else to know), in plain words; None when there is nothing to add."""
    if found.connection == ConnectionState.SUSPENDED:
        return str(SUSPENDED)
    if found.reason is not None:
        text = REASONS.get(found.reason)
        return str(text) if text is not None else None
    if found.state == UserState.RETRYING:
        return str(RETRYING)
    return None

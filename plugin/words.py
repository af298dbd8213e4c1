"""The page's plain words for every state and reason the bridge records.

The bridge stores short codes (``personal_email``, ``secret_expired``…: :mod:`bridge.codes`); the people
reading the page are an LMS owner and, through them, an Azure AD administrator, so each code gets a
sentence saying what happened and, where someone can act, what to do. Kept as data keyed by the code
enums (each a :class:`~enum.StrEnum`, so a stored string finds its words), so the page, the CSV export
and the tests read the same text. Each text is a lazy gettext message: it is put into the page's
language (:mod:`plugin.i18n`) where it is shown.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from bridge.codes import (
    ConnectionState,
    ConsentReason,
    FeedMode,
    MovedChoice,
    OutlookChange,
    Reason,
    TenantReason,
    UserState,
    WhenDone,
)

# Connection states (bridge.accounts.connection) as the page's headline.
CONNECTION_STATES: dict[str, LazyString] = {
    ConnectionState.DISCONNECTED: _l("Not connected"),
    ConnectionState.CONSENT_PENDING: _l("Waiting for admin consent"),
    ConnectionState.CONSENT_RECEIVED: _l("Consent received"),
    ConnectionState.CONNECTED: _l("Connected"),
    ConnectionState.SUSPENDED: _l("Suspended"),
    ConnectionState.DISCONNECTING: _l("Disconnecting"),
}

# Per-user sync states (bridge.accounts.status), in the page's order.
USER_STATES: dict[str, LazyString] = {
    UserState.SYNCED: _l("Synced"),
    UserState.PENDING: _l("Pending"),
    UserState.RETRYING: _l("Retrying"),
    UserState.SKIPPED: _l("Skipped"),
    UserState.FAILED: _l("Failed"),
}

# Why a user has no entries, or could not be written (bridge.lms.eligibility, bridge.lms.rules, bridge.sync.run,
# bridge.graph.errors).
USER_REASONS: dict[str, LazyString] = {
    Reason.PERSONAL_EMAIL: _l("Personal e-mail address (not synced)"),
    Reason.INACTIVE: _l("Inactive in the LMS"),
    Reason.DELETED: _l("Deleted in the LMS"),
    Reason.NO_EMAIL: _l("No e-mail address in the LMS"),
    Reason.DOMAIN_NOT_IN_TENANT: _l("E-mail domain is not a verified domain of the organisation's Azure AD tenant"),
    Reason.NO_SESSION_CHOSEN: _l("Enrolled, but no session chosen yet"),
    Reason.NO_UPCOMING_SESSIONS: _l("No upcoming sessions"),
    Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE: _l(
        "Mailbox not in Exchange Online (on-premises or unlicensed): move it to Exchange Online"
    ),
    Reason.USER_NOT_FOUND: _l("Not found in the organisation's Azure AD tenant"),
    Reason.ACCESS_DENIED_BY_POLICY: _l(
        "Access denied by an application access policy in Exchange Online: ask the Exchange administrator "
        "to include this mailbox"
    ),
    Reason.OUTSIDE_EXCHANGE_SCOPE: _l(
        "Outside the plugin's scope in Exchange: ask the Exchange administrator to add this user to the "
        "scope's group (directly, not through a nested group)"
    ),
    Reason.ERROR: _l("Error"),
    Reason.NOT_CONNECTED: _l("The integration is not connected"),
    Reason.DISCONNECTED: _l("Entries removed on disconnect"),
    Reason.REMOVAL_HELD: _l("Removals on hold until the owner confirms them (many entries at once)"),
}

# What a user did to an entry in Outlook (bridge.outlook_check.store), with when the plugin saw it.
OUTLOOK_CHANGES: dict[str, LazyString] = {
    OutlookChange.DELETED: _l("Deleted in Outlook by the user (%(when)s)"),
    OutlookChange.MOVED: _l("Moved in Outlook by the user (%(when)s)"),
}

@dataclass(frozen=True)
class Option:
    """One option of a setting on the page: its label, and the message once it is saved."""

    label: LazyString
    saved: LazyString


# The account's choice for an entry a user moved in Outlook (bridge.outlook_check.store), in the page's order.
OUTLOOK_CHOICES: dict[str, Option] = {
    MovedChoice.PUT_BACK: Option(_l("Put it back to the LMS's time"),
                                 _l("Entries moved in Outlook will be put back to the LMS's time.")),
    MovedChoice.LEAVE: Option(_l("Leave it where the user put it"),
                              _l("Entries moved in Outlook will be left where the user put them.")),
}

# What becomes of a deadline's entry once the learner is done (bridge.codes.WhenDone).
WHEN_DONE: dict[str, Option] = {
    WhenDone.REMOVE: Option(_l("Remove it from the calendar"), _l("A done deadline's entry will be removed.")),
    WhenDone.KEEP: Option(_l("Keep it until the due time"), _l("A done deadline's entry will stay until it is due.")),
}

# Who the account offers calendar feeds to (bridge.feeds.store), in the page's order.
FEED_MODES: dict[str, Option] = {
    FeedMode.UNREACHABLE: Option(_l("People Outlook cannot reach"),
                                 _l("Calendar feeds are offered to the users Outlook cannot reach.")),
    FeedMode.EVERYONE: Option(_l("Everyone, in addition to Outlook"),
                              _l("Calendar feeds are offered to everyone, in addition to Outlook.")),
    FeedMode.OFF: Option(_l("Nobody (feeds off)"), _l(
        "Calendar feeds are off: no feed address answers, and the LMS is told none is offered.")),
}

# Why Connect integration failed or syncing stopped (bridge.graph.errors, bridge.accounts.connection.NotReady):
# (what happened, what to do).
CONNECTION_REASONS: dict[str, tuple[LazyString, LazyString]] = {
    ConsentReason.CONSENT_NOT_GIVEN: (
        _l("Admin consent has not been given yet."),
        _l("Send the consent link to your Azure AD administrator. Once they press Accept, "
           "press Connect integration."),
    ),
    TenantReason.CONSENT_MISSING: (
        _l("Consent was revoked in Azure AD, or was not given for this tenant."),
        _l("Press Connect for a new consent link and ask your Azure AD administrator to accept it again."),
    ),
    TenantReason.PERMISSION_MISSING: (
        _l("The app does not have the Calendars.ReadWrite application permission in your tenant."),
        _l("Press Connect for a new consent link and ask your Azure AD administrator to accept it: "
           "consenting again grants the missing permission."),
    ),
    TenantReason.SECRET_INVALID: (
        _l("Azure AD does not accept the plugin's client secret."),
        _l("The LMS administrator must set the plugin's current client secret (OUTLOOK_SYNC_CLIENT_SECRET), "
           "then press Connect integration."),
    ),
    TenantReason.SECRET_EXPIRED: (
        _l("The plugin's client secret has expired."),
        _l("The LMS administrator must create a new client secret for the app and set it in "
           "OUTLOOK_SYNC_CLIENT_SECRET, then press Connect integration."),
    ),
    TenantReason.TENANT_NOT_FOUND: (
        _l("The Azure AD tenant that gave consent no longer exists or was changed."),
        _l("Press Connect for a new consent link and have it accepted in your organisation's current tenant."),
    ),
    TenantReason.APP_NOT_FOUND: (
        _l("The app is not registered in Azure AD (it may have been deleted)."),
        _l("The LMS administrator must check the plugin's client ID (OUTLOOK_SYNC_CLIENT_ID)."),
    ),
    TenantReason.AUTH_FAILED: (
        _l("Azure AD refused to give the plugin access."),
        _l("Press Connect integration to try again; if it keeps failing, press Connect for a new consent link."),
    ),
}

# The consent callback's outcomes (bridge.accounts.consent.CallbackResult.kind): (title, what it means).
CONSENT_RESULTS: dict[str, tuple[LazyString, LazyString]] = {
    ConsentReason.ACCEPTED: (
        _l("Consent given"),
        _l("Thank you. The Azure AD administrator has given the plugin the permissions it asked for."),
    ),
    ConsentReason.INCOMPLETE: (
        _l("This answer does not say that consent was given"),
        _l("Azure AD's answer is incomplete, so nothing was changed and the consent link still works. "
           "Open the consent link again and press Accept."),
    ),
    ConsentReason.ALREADY_CONNECTED: (
        _l("The integration is already connected"),
        _l("This account is connected to an Azure AD tenant, so this consent changed nothing. To connect "
           "another tenant, first press Disconnect in the LMS, then Connect."),
    ),
    ConsentReason.DECLINED: (
        _l("Consent was not given"),
        _l("The Azure AD administrator did not accept, so nothing was connected. To try again, "
           "press Connect in the LMS for a new consent link."),
    ),
    ConsentReason.EXPIRED: (
        _l("This consent link has expired"),
        _l("Consent links are valid for a limited time. Press Connect in the LMS for a new link and send it "
           "to your Azure AD administrator."),
    ),
    ConsentReason.USED: (
        _l("This consent link has already been used"),
        _l("Each consent link works once. If the integration is not connected yet, press Connect in the "
           "LMS for a new link."),
    ),
    ConsentReason.SUPERSEDED: (
        _l("This consent link was replaced by a newer one"),
        _l("Someone pressed Connect again in the LMS, which made a new link and stopped this one. Use the "
           "newest link, or press Connect in the LMS for another."),
    ),
    ConsentReason.UNKNOWN: (
        _l("This consent link is not valid"),
        _l("The link is incomplete, was changed, or was replaced by a newer one. Press Connect in the LMS "
           "for a new link."),
    ),
    ConsentReason.WRONG_TENANT: (
        _l("Consent came from a different organisation"),
        _l("The integration has entries in another Azure AD tenant. To move to this tenant, first "
           "Disconnect in the LMS with \u201cremove the entries it made\u201d, then press Connect again."),
    ),
}


def user_reason(reason: str | None, detail: str | None = None, group: str | None = None) -> str:
    """One user's reason in plain words (an error carries its detail; outside the Exchange scope names
    the account's ``group`` when one is known)."""
    if not reason:
        return ""
    if reason == Reason.OUTSIDE_EXCHANGE_SCOPE and group:
        return _("Outside the plugin's scope in Exchange: add them to the group %(group)s (directly, not through "
                 "a nested group)", group=group)
    text = str(USER_REASONS.get(reason, reason.replace("_", " ").capitalize()))
    return f"{text}: {detail}" if reason == Reason.ERROR and detail else text


def connection_reason(reason: str | None) -> tuple[str, str] | None:
    """(what happened, what to do) for a connection's reason, or None."""
    if not reason:
        return None
    what, todo = CONNECTION_REASONS.get(reason, CONNECTION_REASONS[TenantReason.AUTH_FAILED])
    return str(what), str(todo)


def outlook_change(kind: str, when: str) -> str:
    """What a user did in Outlook (an :class:`~bridge.codes.OutlookChange`) and when, in plain words."""
    text = OUTLOOK_CHANGES.get(kind)
    return str(text) % {"when": when} if text is not None else ""

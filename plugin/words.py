"""The page's plain words for every state and reason the bridge records.

The bridge stores short codes (``personal_email``, ``secret_expired``…); the people reading the page
are an LMS owner and, through them, an Azure AD administrator, so each code gets a sentence saying
what happened and, where someone can act, what to do. Kept as data so the page, the CSV export and
the tests read the same text. Each text is a lazy gettext message: it is put into the page's
language (:mod:`plugin.i18n`) where it is shown.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

# Connection states (bridge.codes.ConnectionState) as the page's headline.
CONNECTION_STATES = {
    "disconnected": _l("Not connected"),
    "consent_pending": _l("Waiting for admin consent"),
    "consent_received": _l("Consent received"),
    "connected": _l("Connected"),
    "suspended": _l("Suspended"),
    "disconnecting": _l("Disconnecting"),
}

# Per-user sync states (bridge.codes.UserState).
USER_STATES = {
    "synced": _l("Synced"),
    "pending": _l("Pending"),
    "retrying": _l("Retrying"),
    "skipped": _l("Skipped"),
    "failed": _l("Failed"),
}

# Why a user has no entries, or could not be written (bridge.lms.eligibility, bridge.lms.rules, bridge.sync.run,
# bridge.graph.errors).
USER_REASONS = {
    "personal_email": _l("Personal e-mail address (not synced)"),
    "inactive": _l("Inactive in the LMS"),
    "deleted": _l("Deleted in the LMS"),
    "no_email": _l("No e-mail address in the LMS"),
    "domain_not_in_tenant": _l("E-mail domain is not a verified domain of the organisation's Azure AD tenant"),
    "no_session_chosen": _l("Enrolled, but no session chosen yet"),
    "no_upcoming_sessions": _l("No upcoming sessions"),
    "mailbox_not_in_exchange_online": _l(
        "Mailbox not in Exchange Online (on-premises or unlicensed): move it to Exchange Online"
    ),
    "user_not_found": _l("Not found in the organisation's Azure AD tenant"),
    "access_denied_by_policy": _l(
        "Access denied by an application access policy in Exchange Online: ask the Exchange administrator "
        "to include this mailbox"
    ),
    "error": _l("Error"),
    "not_connected": _l("The integration is not connected"),
    "disconnected": _l("Entries removed on disconnect"),
    "removal_held": _l("Removals on hold until the owner confirms them (many entries at once)"),
}

# What a user did to an entry in Outlook (bridge.outlook_check.store), with when the plugin saw it.
OUTLOOK_CHANGES = {
    "deleted": _l("Deleted in Outlook by the user (%(when)s)"),
    "moved": _l("Moved in Outlook by the user (%(when)s)"),
}

# The account's choice for an entry a user moved in Outlook (bridge.outlook_check.store), and the message once saved.
OUTLOOK_CHOICES = {
    "put_back": _l("Put it back to the LMS's time"),
    "leave": _l("Leave it where the user put it"),
}
OUTLOOK_SAVED = {
    "put_back": _l("Entries moved in Outlook will be put back to the LMS's time."),
    "leave": _l("Entries moved in Outlook will be left where the user put them."),
}

# Why Connect integration failed or syncing stopped (bridge.graph.errors, bridge.accounts.connection.NotReady):
# (what happened, what to do).
CONNECTION_REASONS: dict[str, tuple[LazyString, LazyString]] = {
    "consent_not_given": (
        _l("Admin consent has not been given yet."),
        _l("Send the consent link to your Azure AD administrator. Once they press Accept, "
           "press Connect integration."),
    ),
    "consent_missing": (
        _l("Consent was revoked in Azure AD, or was not given for this tenant."),
        _l("Press Connect for a new consent link and ask your Azure AD administrator to accept it again."),
    ),
    "permission_missing": (
        _l("The app does not have the Calendars.ReadWrite application permission in your tenant."),
        _l("Press Connect for a new consent link and ask your Azure AD administrator to accept it: "
           "consenting again grants the missing permission."),
    ),
    "secret_invalid": (
        _l("Azure AD does not accept the plugin's client secret."),
        _l("The LMS administrator must set the plugin's current client secret (OUTLOOK_SYNC_CLIENT_SECRET), "
           "then press Connect integration."),
    ),
    "secret_expired": (
        _l("The plugin's client secret has expired."),
        _l("The LMS administrator must create a new client secret for the app and set it in "
           "OUTLOOK_SYNC_CLIENT_SECRET, then press Connect integration."),
    ),
    "tenant_not_found": (
        _l("The Azure AD tenant that gave consent no longer exists or was changed."),
        _l("Press Connect for a new consent link and have it accepted in your organisation's current tenant."),
    ),
    "app_not_found": (
        _l("The app is not registered in Azure AD (it may have been deleted)."),
        _l("The LMS administrator must check the plugin's client ID (OUTLOOK_SYNC_CLIENT_ID)."),
    ),
    "auth_failed": (
        _l("Azure AD refused to give the plugin access."),
        _l("Press Connect integration to try again; if it keeps failing, press Connect for a new consent link."),
    ),
}

# The consent callback's outcomes (bridge.accounts.consent.CallbackResult.kind): (title, what it means).
CONSENT_RESULTS: dict[str, tuple[LazyString, LazyString]] = {
    "accepted": (
        _l("Consent given"),
        _l("Thank you. The Azure AD administrator has allowed the plugin to write to the calendars "
           "of your organisation."),
    ),
    "incomplete": (
        _l("This answer does not say that consent was given"),
        _l("Azure AD's answer is incomplete, so nothing was changed and the consent link still works. "
           "Open the consent link again and press Accept."),
    ),
    "already_connected": (
        _l("The integration is already connected"),
        _l("This account is connected to an Azure AD tenant, so this consent changed nothing. To connect "
           "another tenant, first press Disconnect in the LMS, then Connect."),
    ),
    "declined": (
        _l("Consent was not given"),
        _l("The Azure AD administrator did not accept, so nothing was connected. To try again, "
           "press Connect in the LMS for a new consent link."),
    ),
    "expired": (
        _l("This consent link has expired"),
        _l("Consent links are valid for a limited time. Press Connect in the LMS for a new link and send it "
           "to your Azure AD administrator."),
    ),
    "used": (
        _l("This consent link has already been used"),
        _l("Each consent link works once. If the integration is not connected yet, press Connect in the "
           "LMS for a new link."),
    ),
    "superseded": (
        _l("This consent link was replaced by a newer one"),
        _l("Someone pressed Connect again in the LMS, which made a new link and stopped this one. Use the "
           "newest link, or press Connect in the LMS for another."),
    ),
    "unknown": (
        _l("This consent link is not valid"),
        _l("The link is incomplete, was changed, or was replaced by a newer one. Press Connect in the LMS "
           "for a new link."),
    ),
    "wrong_tenant": (
        _l("Consent came from a different organisation"),
        _l("The integration has entries in another Azure AD tenant. To move to this tenant, first "
           "Disconnect in the LMS with \u201cremove the entries it made\u201d, then press Connect again."),
    ),
}


def user_reason(reason: str | None, detail: str | None = None) -> str:
    """One user's reason in plain words (an error carries its detail)."""
    if not reason:
        return ""
    text = str(USER_REASONS.get(reason, reason.replace("_", " ").capitalize()))
    return f"{text}: {detail}" if reason == "error" and detail else text


def connection_reason(reason: str | None) -> tuple[str, str] | None:
    """(what happened, what to do) for a connection's reason, or None."""
    if not reason:
        return None
    what, todo = CONNECTION_REASONS.get(reason, CONNECTION_REASONS["auth_failed"])
    return str(what), str(todo)


def outlook_change(kind: str, when: str) -> str:
    """What a user did in Outlook (``deleted`` | ``moved``) and when, in plain words."""
    text = OUTLOOK_CHANGES.get(kind)
    return str(text) % {"when": when} if text is not None else ""

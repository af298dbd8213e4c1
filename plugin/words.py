"""The page's plain words for every state and reason the bridge records.

The bridge stores short codes (``personal_email``, ``secret_expired``…); the people reading the page
are an LMS owner and, through them, an Azure AD administrator, so each code gets a sentence saying
what happened and, where someone can act, what to do. Kept as data so the page, the CSV export and
the tests read the same text.
"""
from __future__ import annotations

# Connection states (bridge.connection) as the page's headline.
CONNECTION_STATES = {
    "disconnected": "Not connected",
    "consent_pending": "Waiting for admin consent",
    "consent_received": "Consent received",
    "connected": "Connected",
    "suspended": "Suspended",
    "disconnecting": "Disconnecting",
}

# Per-user sync states (bridge.status.STATES).
USER_STATES = {
    "synced": "Synced",
    "pending": "Pending",
    "retrying": "Retrying",
    "skipped": "Skipped",
    "failed": "Failed",
}

# Why a user has no entries, or could not be written (bridge.eligibility, bridge.rules, bridge.sync,
# bridge.graph.errors).
USER_REASONS = {
    "personal_email": "Personal e-mail address (not synced)",
    "inactive": "Inactive in the LMS",
    "deleted": "Deleted in the LMS",
    "no_email": "No e-mail address in the LMS",
    "domain_not_in_tenant": "E-mail domain is not a verified domain of the organisation's Azure AD tenant",
    "no_session_chosen": "Enrolled, but no session chosen yet",
    "no_upcoming_sessions": "No upcoming sessions",
    "mailbox_not_in_exchange_online": (
        "Mailbox not in Exchange Online (on-premises or unlicensed): move it to Exchange Online"
    ),
    "user_not_found": "Not found in the organisation's Azure AD tenant",
    "access_denied_by_policy": (
        "Access denied by an application access policy in Exchange Online: ask the Exchange administrator "
        "to include this mailbox"
    ),
    "error": "Error",
    "not_connected": "The integration is not connected",
    "disconnected": "Entries removed on disconnect",
    "removal_held": "Removals on hold until the owner confirms them (many entries at once)",
}

# Why Connect integration failed or syncing stopped (bridge.graph.errors, bridge.connection.NotReady):
# (what happened, what to do).
CONNECTION_REASONS: dict[str, tuple[str, str]] = {
    "consent_not_given": (
        "Admin consent has not been given yet.",
        "Send the consent link to your Azure AD administrator. Once they press Accept, "
        "press Connect integration.",
    ),
    "consent_missing": (
        "Consent was revoked in Azure AD, or was not given for this tenant.",
        "Press Connect for a new consent link and ask your Azure AD administrator to accept it again.",
    ),
    "permission_missing": (
        "The app does not have the Calendars.ReadWrite application permission in your tenant.",
        "Press Connect for a new consent link and ask your Azure AD administrator to accept it: "
        "consenting again grants the missing permission.",
    ),
    "secret_invalid": (
        "Azure AD does not accept the plugin's client secret.",
        "The LMS administrator must set the plugin's current client secret (OUTLOOK_SYNC_CLIENT_SECRET), "
        "then press Connect integration.",
    ),
    "secret_expired": (
        "The plugin's client secret has expired.",
        "The LMS administrator must create a new client secret for the app and set it in "
        "OUTLOOK_SYNC_CLIENT_SECRET, then press Connect integration.",
    ),
    "tenant_not_found": (
        "The Azure AD tenant that gave consent no longer exists or was changed.",
        "Press Connect for a new consent link and have it accepted in your organisation's current tenant.",
    ),
    "app_not_found": (
        "The app is not registered in Azure AD (it may have been deleted).",
        "The LMS administrator must check the plugin's client ID (OUTLOOK_SYNC_CLIENT_ID).",
    ),
    "auth_failed": (
        "Azure AD refused to give the plugin access.",
        "Press Connect integration to try again; if it keeps failing, press Connect for a new consent link.",
    ),
}

# The consent callback's outcomes (bridge.connection.CallbackResult.kind): (title, what it means).
CONSENT_RESULTS: dict[str, tuple[str, str]] = {
    "accepted": (
        "Consent given",
        "Thank you. The Azure AD administrator has allowed the plugin to write to the calendars "
        "of your organisation.",
    ),
    "declined": (
        "Consent was not given",
        "The Azure AD administrator did not accept, so nothing was connected. To try again, "
        "press Connect in the LMS for a new consent link.",
    ),
    "expired": (
        "This consent link has expired",
        "Consent links are valid for a limited time. Press Connect in the LMS for a new link and send it "
        "to your Azure AD administrator.",
    ),
    "used": (
        "This consent link has already been used",
        "Each consent link works once. If the integration is not connected yet, press Connect in the "
        "LMS for a new link.",
    ),
    "superseded": (
        "This consent link was replaced by a newer one",
        "Someone pressed Connect again in the LMS, which made a new link and stopped this one. Use the "
        "newest link, or press Connect in the LMS for another.",
    ),
    "unknown": (
        "This consent link is not valid",
        "The link is incomplete, was changed, or was replaced by a newer one. Press Connect in the LMS "
        "for a new link.",
    ),
    "wrong_tenant": (
        "Consent came from a different organisation",
        "The integration has entries in another Azure AD tenant. To move to this tenant, first "
        "Disconnect in the LMS with \u201cremove the entries it made\u201d, then press Connect again.",
    ),
}


def user_reason(reason: str | None, detail: str | None = None) -> str:
    """One user's reason in plain words (an error carries its detail)."""
    if not reason:
        return ""
    text = USER_REASONS.get(reason, reason.replace("_", " ").capitalize())
    return f"{text}: {detail}" if reason == "error" and detail else text


def connection_reason(reason: str | None) -> tuple[str, str] | None:
    """(what happened, what to do) for a connection's reason, or None."""
    if not reason:
        return None
    return CONNECTION_REASONS.get(reason, CONNECTION_REASONS["auth_failed"])

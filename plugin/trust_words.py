"""Plain words for the audit log, the credential warnings and the health panel (data, like words.py)."""
from __future__ import annotations

from typing import Any

from bridge.trust import audit, expiry
from plugin import words

AUDIT_ACTIONS = {
    audit.CONNECTED: "Connected the integration",
    audit.DISCONNECTED: "Disconnected",
    audit.REMINDER_CHANGED: "Changed the reminder",
    audit.USER_RETRIED: "Retried a user",
    audit.RESYNCHRONISED: "Resynchronised everyone",
    audit.MASS_REMOVAL_CONFIRMED: "Confirmed a mass removal",
    audit.CREDENTIAL_ROTATED: "A credential of the plugin was changed",
}

CREDENTIAL_LEVELS = {
    expiry.OK: "",
    expiry.NOTICE: "Expires within 30 days: plan the rotation.",
    expiry.WARNING: "Expires within 7 days: rotate it now.",
    expiry.CRITICAL: "Expires within a day: syncing stops when it does.",
    expiry.EXPIRED: "Expired: Azure AD refuses it.",
    expiry.UNKNOWN: "End date not set (OUTLOOK_SYNC_CLIENT_SECRET_EXPIRES): the plugin cannot warn before it expires.",
}

SLOTS = {"current": "Current", "next": "Next (tried first)"}
KINDS = {"secret": "client secret", "certificate": "certificate"}


def audit_detail(action: str, detail: dict[str, Any]) -> str:
    """What an audited action caused, in words."""
    if action == audit.CONNECTED:
        return f"{detail.get('users_queued', 0)} users queued for their first sync"
    if action == audit.DISCONNECTED:
        return "future entries removed from Outlook" if detail.get("remove_entries") else "entries left in Outlook"
    if action == audit.REMINDER_CHANGED:
        minutes = detail.get("minutes")
        return "no reminder" if minutes is None else f"{minutes} minutes before the start"
    if action == audit.USER_RETRIED:
        return f"user {detail.get('user_id', '?')} queued again"
    if action == audit.RESYNCHRONISED:
        return f"{detail.get('users_queued', 0)} users queued"
    if action == audit.MASS_REMOVAL_CONFIRMED:
        return f"{detail.get('entries', '?')} entries of {detail.get('users', '?')} users removed from Outlook"
    if action == audit.CREDENTIAL_ROTATED:
        return "credential changed: " + ", ".join(SLOTS.get(s, s).lower() for s in detail.get("slots", []))
    return ", ".join(f"{k}: {v}" for k, v in sorted(detail.items()))


def preview_error(code: str | None) -> str:
    """Why a preview stopped, in words (a tenant refusal in the connection's own words)."""
    if code == "consent_not_given":
        return "admin consent has not been given yet."
    if code in ("graph_error", "error", None):
        return "Microsoft could not be reached just now, or something went wrong. Press Refresh preview to try again."
    return " ".join(words.connection_reason(code) or ())

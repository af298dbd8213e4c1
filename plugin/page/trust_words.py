"""Plain words for the audit log, the credential warnings and the health panel (data, like words.py).

Each text is a lazy gettext message, put into the page's language (:mod:`plugin.i18n`) where it is
shown; outside a request (the command line) it stays English.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from bridge.codes import AuditAction, ConsentReason, CredentialLevel, TenantReason
from plugin import words
from plugin.i18n import number

AUDIT_ACTIONS = {
    AuditAction.CONNECTED: _l("Connected the integration"),
    AuditAction.DISCONNECTED: _l("Disconnected"),
    AuditAction.REMINDER_CHANGED: _l("Changed the reminder"),
    AuditAction.USER_RETRIED: _l("Retried a user"),
    AuditAction.RESYNCHRONISED: _l("Resynchronised everyone"),
    AuditAction.MASS_REMOVAL_CONFIRMED: _l("Confirmed a mass removal"),
    AuditAction.CREDENTIAL_ROTATED: _l("A credential of the plugin was changed"),
}

CREDENTIAL_LEVELS = {
    CredentialLevel.OK: "",
    CredentialLevel.NOTICE: _l("Expires within 30 days: plan the rotation."),
    CredentialLevel.WARNING: _l("Expires within 7 days: rotate it now."),
    CredentialLevel.CRITICAL: _l("Expires within a day: syncing stops when it does."),
    CredentialLevel.EXPIRED: _l("Expired: Azure AD refuses it."),
    CredentialLevel.UNKNOWN: _l("End date not set (OUTLOOK_SYNC_CLIENT_SECRET_EXPIRES): the plugin cannot warn "
                                "before it expires."),
}
# Levels whose words are shown as an error.
URGENT_LEVELS = frozenset({CredentialLevel.WARNING, CredentialLevel.CRITICAL, CredentialLevel.EXPIRED})

# Translators: a credential's slot, followed by its kind ("Current client secret", "Next (tried first) certificate").
SLOTS = {"current": _l("Current"), "next": _l("Next (tried first)")}
KINDS = {"secret": _l("client secret"), "certificate": _l("certificate")}


def audit_detail(action: str, detail: dict[str, Any]) -> str:
    """What an audited action caused, in words."""
    if action == AuditAction.CONNECTED:
        return ngettext("%(num)d user queued for their first sync", "%(num)d users queued for their first sync",
                        int(detail.get("users_queued", 0)))
    if action == AuditAction.DISCONNECTED:
        return _("future entries removed from Outlook") if detail.get("remove_entries") else \
            _("entries left in Outlook")
    if action == AuditAction.REMINDER_CHANGED:
        minutes = detail.get("minutes")
        return _("no reminder") if minutes is None else \
            ngettext("%(num)d minute before the start", "%(num)d minutes before the start", int(minutes))
    if action == AuditAction.USER_RETRIED:
        return _("user %(user)s queued again", user=detail.get("user_id", "?"))
    if action == AuditAction.RESYNCHRONISED:
        return ngettext("%(num)d user queued", "%(num)d users queued", int(detail.get("users_queued", 0)))
    if action == AuditAction.MASS_REMOVAL_CONFIRMED:
        if "users" not in detail:  # recorded before the users were counted
            return ngettext("%(num)d entry removed from Outlook", "%(num)d entries removed from Outlook",
                            int(detail.get("entries", 0)))
        return _("%(entries)s entries of %(users)s users removed from Outlook",
                 entries=detail.get("entries", "?"), users=detail["users"])
    if action == AuditAction.CREDENTIAL_ROTATED:
        return _("credential changed: %(slots)s",
                 slots=", ".join(str(SLOTS.get(s, s)).lower() for s in detail.get("slots", [])))
    return ", ".join(f"{k}: {v}" for k, v in sorted(detail.items()))


# Why removals are held, per cause of bridge.sync.guard.CAUSES: (distinct things, the entries in words) → a phrase.
HOLD_CAUSES: dict[str, Callable[[int, str], str]] = {
    "events_deleted": lambda things, entries: ngettext(
        "%(entries)s of %(count)s deleted event", "%(entries)s of %(count)s deleted events", things,
        entries=entries, count=number(things)),
    "events_cancelled": lambda things, entries: ngettext(
        "%(entries)s of %(count)s cancelled event", "%(entries)s of %(count)s cancelled events", things,
        entries=entries, count=number(things)),
    "sessions_removed": lambda things, entries: ngettext(
        "%(entries)s of %(count)s removed session", "%(entries)s of %(count)s removed sessions", things,
        entries=entries, count=number(things)),
    "users_gone": lambda things, entries: ngettext(
        "%(entries)s of %(count)s user deleted or deactivated", "%(entries)s of %(count)s users deleted or deactivated",
        things, entries=entries, count=number(things)),
    "enrollments_ended": lambda things, entries: ngettext(
        "%(entries)s of %(count)s enrollment ended or moved", "%(entries)s of %(count)s enrollments ended or moved",
        things, entries=entries, count=number(things)),
    "deadlines_deleted": lambda things, entries: ngettext(
        "%(entries)s of %(count)s deleted deadline", "%(entries)s of %(count)s deleted deadlines", things,
        entries=entries, count=number(things)),
    "deadlines_ended": lambda things, entries: ngettext(
        "%(entries)s of %(count)s deadline no longer applying", "%(entries)s of %(count)s deadlines no longer applying",
        things, entries=entries, count=number(things)),
    "deadlines_done": lambda things, entries: ngettext(
        "%(entries)s of %(count)s deadline done", "%(entries)s of %(count)s deadlines done",
        things, entries=entries, count=number(things)),
}


def hold_causes(causes: Iterable[tuple[str, int, int]]) -> list[str]:
    """Why removals are held, one phrase per (cause, entries, distinct things), in the order given, e.g.
    "240 entries of 12 deleted events"."""
    return [HOLD_CAUSES[cause](things, ngettext("%(count)s entry", "%(count)s entries", entries, count=number(entries)))
            for cause, entries, things in causes]


def preview_error(code: str | None) -> str:
    """Why a preview stopped (:attr:`bridge.trust.preview_store.PreviewSummary.error`), in words: a tenant
    refusal (a :class:`~bridge.codes.TenantReason`) in the connection's own words; any other failure
    (Graph unreachable, an unexpected error) as one that Refresh preview may get past."""
    if code == ConsentReason.CONSENT_NOT_GIVEN:
        return _("admin consent has not been given yet.")
    if code in TENANT_REASONS:
        return " ".join(words.connection_reason(code) or ())
    return _("Microsoft could not be reached just now, or something went wrong. Press Refresh preview to "
             "try again.")


TENANT_REASONS = frozenset(TenantReason)

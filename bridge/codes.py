"""Every state and reason code the plugin stores, in one place.

The database, the page, the CSV exports and ``outlook-sync status`` carry these short codes; the
page's words for each are in ``plugin/words.py`` and the gettext catalogues. Each enum is a
:class:`~enum.StrEnum`, so a member *is* its code: it is stored, compared and sent as that string,
and a new code is one line here plus its words.
"""
from __future__ import annotations

from enum import StrEnum


class ConnectionState(StrEnum):
    """Where an account's connection to its tenant stands (bridge.accounts.connection)."""

    DISCONNECTED = "disconnected"
    CONSENT_PENDING = "consent_pending"  # the consent link was issued
    CONSENT_RECEIVED = "consent_received"  # the Azure AD administrator accepted; Connect integration next
    CONNECTED = "connected"
    SUSPENDED = "suspended"  # the tenant refused us; probed again with backoff
    DISCONNECTING = "disconnecting"  # removing future entries, then disconnected


# Connection states in which the worker passes users (the queue claims their keys).
WORKING_STATES = (ConnectionState.CONNECTED, ConnectionState.DISCONNECTING)
# Connection states in which Graph reaches the tenant (a feed is offered only to users Graph cannot reach).
GRAPH_STATES = (ConnectionState.CONNECTED, ConnectionState.SUSPENDED)


class UserState(StrEnum):
    """A user's sync state as the page shows it: the outcome of their last pass, or their place in
    the queue (pending, retrying: bridge.accounts.status)."""

    SYNCED = "synced"
    PENDING = "pending"
    RETRYING = "retrying"
    SKIPPED = "skipped"
    FAILED = "failed"


class Reason(StrEnum):
    """Why a user has no entries, or could not be written."""

    # the LMS's side (bridge.lms.eligibility, bridge.lms.rules)
    PERSONAL_EMAIL = "personal_email"
    INACTIVE = "inactive"
    DELETED = "deleted"
    NO_EMAIL = "no_email"
    DOMAIN_NOT_IN_TENANT = "domain_not_in_tenant"
    NO_SESSION_CHOSEN = "no_session_chosen"
    NO_UPCOMING_SESSIONS = "no_upcoming_sessions"
    # the mailbox's side (bridge.graph.errors.MailboxUnreachable)
    MAILBOX_NOT_IN_EXCHANGE_ONLINE = "mailbox_not_in_exchange_online"
    USER_NOT_FOUND = "user_not_found"
    ACCESS_DENIED_BY_POLICY = "access_denied_by_policy"
    OUTSIDE_EXCHANGE_SCOPE = "outside_exchange_scope"  # not in the app's RBAC scope (AccessGrant.EXCHANGE_SCOPE)
    # the account's side (bridge.sync)
    NOT_CONNECTED = "not_connected"
    DISCONNECTED = "disconnected"  # entries removed on disconnect
    REMOVAL_HELD = "removal_held"  # removals wait for the owner's confirmation (bridge.sync.guard)
    ERROR = "error"  # gave up after retries; the detail says what Graph answered
    GRAPH_ERROR = "graph_error"  # a preview stopped on a Graph failure that was not the tenant's refusal


class AccessGrant(StrEnum):
    """How the tenant grants the plugin its access to calendars (the account's choice; facts.md,
    "RBAC for Applications"). It decides what Graph's 403 ``ErrorAccessDenied`` on a mailbox means
    (bridge.graph.wire.error_for)."""

    ORGANISATION = "organisation"  # Calendars.ReadWrite consented in Entra ID: every mailbox
    EXCHANGE_SCOPE = "exchange_scope"  # directory permissions only; Exchange RBAC scopes the mailboxes


class Because(StrEnum):
    """Why the rules want an entry for a user (bridge.lms.rules.Wanted)."""

    ORGANIZER = "organizer"  # the user organizes the event
    ASSIGNED = "assigned"  # the user is enrolled in the session
    DEADLINE = "deadline"  # a deadline applies to the user


class WhenDone(StrEnum):
    """What becomes of a deadline's entry when the learner is done (bridge.lms.settings)."""

    REMOVE = "remove"  # the entry is removed
    KEEP = "keep"  # the entry stays until the due time passes


class TenantReason(StrEnum):
    """Why a whole tenant refuses the plugin (bridge.graph.errors.AuthFailed): the connection's reason."""

    CONSENT_MISSING = "consent_missing"
    PERMISSION_MISSING = "permission_missing"
    SECRET_INVALID = "secret_invalid"
    SECRET_EXPIRED = "secret_expired"
    TENANT_NOT_FOUND = "tenant_not_found"
    APP_NOT_FOUND = "app_not_found"
    AUTH_FAILED = "auth_failed"


class ConsentReason(StrEnum):
    """What became of a consent link and Connect integration (bridge.accounts.connection)."""

    CONSENT_NOT_GIVEN = "consent_not_given"
    ACCEPTED = "accepted"
    INCOMPLETE = "incomplete"
    ALREADY_CONNECTED = "already_connected"
    DECLINED = "declined"
    EXPIRED = "expired"
    USED = "used"
    SUPERSEDED = "superseded"
    UNKNOWN = "unknown"
    WRONG_TENANT = "wrong_tenant"


class EntryState(StrEnum):
    """An entry's record (bridge.sync.reconcile)."""

    CREATING = "creating"  # written before the POST: outcome unknown until confirmed
    ACTIVE = "active"
    DELETED_IN_OUTLOOK = "deleted_in_outlook"  # the user deleted it; made again on a material change


class OutlookChange(StrEnum):
    """What a user did to an entry in Outlook (bridge.outlook_check)."""

    DELETED = "deleted"
    MOVED = "moved"


class MovedChoice(StrEnum):
    """The account's choice for an entry a user moved in Outlook."""

    PUT_BACK = "put_back"  # put back to the LMS's time on the next pass (the default)
    LEAVE = "leave"  # left where the user put it, until the LMS changes it


class FeedMode(StrEnum):
    """Who is offered a calendar feed (bridge.feeds)."""

    OFF = "off"
    UNREACHABLE = "unreachable"  # users Graph cannot reach
    EVERYONE = "everyone"


class FeedReason(StrEnum):
    """Why a user is not offered a feed, beside the reasons Graph cannot reach them (bridge.feeds); one
    offered to everyone is offered for :attr:`FeedMode.EVERYONE`."""

    FEEDS_OFF = "feeds_off"
    IN_OUTLOOK = "in_outlook"  # their sessions go to Outlook


class AuditAction(StrEnum):
    """What a manager (or the plugin itself) did, as the audit log records it (bridge.trust.audit)."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    REMINDER_CHANGED = "reminder_changed"
    USER_RETRIED = "user_retried"
    RESYNCHRONISED = "resynchronised"
    MASS_REMOVAL_CONFIRMED = "mass_removal_confirmed"
    CREDENTIAL_ROTATED = "credential_rotated"


class CredentialLevel(StrEnum):
    """How loudly to warn about a credential's end date (bridge.trust.expiry)."""

    OK = "ok"
    NOTICE = "30_days"
    WARNING = "7_days"
    CRITICAL = "1_day"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # no end date known


class PreviewState(StrEnum):
    """A preview job (bridge.trust.preview)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RemovalCause(StrEnum):
    """Why the LMS no longer wants a future entry, as the mass-removal guard counts it (bridge.sync.guard)."""

    EVENTS_DELETED = "events_deleted"
    EVENTS_CANCELLED = "events_cancelled"
    SESSIONS_REMOVED = "sessions_removed"
    USERS_GONE = "users_gone"  # deleted or deactivated
    ENROLLMENTS_ENDED = "enrollments_ended"  # ended, or moved to another session
    DEADLINES_DELETED = "deadlines_deleted"
    DEADLINES_ENDED = "deadlines_ended"  # no longer apply to the user
    DEADLINES_DONE = "deadlines_done"  # the user is done, and the account removes done ones


class HookOutcome(StrEnum):
    """What became of one hook delivery (bridge.lms.ingest): its status in the answer and its metric."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # its id was seen before
    STALE = "stale"  # what is stored is as new or newer


class WriteOutcome(StrEnum):
    """How one Graph request ended, by the kind of its error (bridge.graph.errors.outcome_of): a metric label."""

    OK = "ok"
    THROTTLED = "throttled"
    TRANSIENT = "transient"  # lost or 5xx: the outcome is unknown
    NOT_FOUND = "not_found"
    MAILBOX_UNREACHABLE = "mailbox_unreachable"
    AUTH_FAILED = "auth_failed"
    BAD_REQUEST = "bad_request"


class PassOutcome(StrEnum):
    """How a user's pass is counted (bridge.metrics.PASSES): the user's state after it, or what became
    of their key."""

    SYNCED = "synced"
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRY = "retry"  # put back for a later attempt
    GAVE_UP = "gave_up"  # failed after every attempt
    SUSPENDED = "suspended"  # the tenant refused the plugin

"""The database tables: the LMS replica, connections, the entries made and the work queue.

Every row belongs to one LMS account (``account_id`` leads every key), so no query can mix two
accounts by accident.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants as naive UTC and returns them aware, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is expected")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    """An LMS account, known from its first hook or launch."""

    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminder_minutes: Mapped[int | None] = mapped_column(Integer, default=15)
    locale: Mapped[str | None] = mapped_column(String(16))  # the entries' language (None: English)


class Connection(Base):
    """The account's link to one Azure AD tenant and why it is (not) syncing."""

    __tablename__ = "connections"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(32), default="disconnected")
    tenant_id: Mapped[str | None] = mapped_column(String(64))  # proven by Connect integration only
    claimed_tenant_id: Mapped[str | None] = mapped_column(String(64))  # named by a consent answer, unproven
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(128))
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_by: Mapped[str | None] = mapped_column(String(128))
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    verified_domains: Mapped[list[str] | None] = mapped_column(JSON)
    domains_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    full_reconcile_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentRequest(Base):
    """A single-use ``state`` for the admin-consent link, bound to one account."""

    __tablename__ = "consent_requests"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    tenant_id: Mapped[str | None] = mapped_column(String(64))


class UsedLaunch(Base):
    """A launch token already opened (its SHA-256), kept until it would have expired anyway."""

    __tablename__ = "used_launches"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LmsUser(Base):
    """The LMS's user as last delivered; ``deleted`` keeps the version of a deletion."""

    __tablename__ = "lms_users"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))

    # users sharing a mailbox (one address, several LMS accounts) are found by address
    __table_args__ = (Index("ix_lms_users_email", "account_id", text("lower(email)")),)


class LmsEvent(Base):
    """An LMS event (a training); its sessions are replaced with each newer version."""

    __tablename__ = "lms_events"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text)
    organizer_id: Mapped[str | None] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(String(2048))
    location: Mapped[str | None] = mapped_column(String(512))
    online_url: Mapped[str | None] = mapped_column(String(2048))
    timezone: Mapped[str | None] = mapped_column(String(64))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_lms_events_organizer", "account_id", "organizer_id"),)


class LmsSession(Base):
    """One session of an event."""

    __tablename__ = "lms_sessions"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str | None] = mapped_column(String(512))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(512))
    online_url: Mapped[str | None] = mapped_column(String(2048))


class LmsEnrollment(Base):
    """A user's enrollment in an event and the session they chose (or were assigned), if any."""

    __tablename__ = "lms_enrollments"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    session_id: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index("ix_lms_enrollments_user", "account_id", "user_id"),)


class Delivery(Base):
    """A hook delivery id already seen, so a repeated delivery is acknowledged, not applied."""

    __tablename__ = "deliveries"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DirtyKey(Base):
    """A user whose entries must be reconciled; written in the same transaction as the change."""

    __tablename__ = "dirty_keys"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_dirty_keys_due", "due_at"),)


class Entry(Base):
    """An Outlook entry the plugin made (or is making) for one user and session."""

    __tablename__ = "entries"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    mailbox_id: Mapped[str] = mapped_column(String(128))
    graph_event_id: Mapped[str | None] = mapped_column(String(512))
    transaction_id: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    material_hash: Mapped[str | None] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_entries_event", "account_id", "event_id"),)


class UserState(Base):
    """The last reconcile outcome for a user, with its reason, for the page and ``status``."""

    __tablename__ = "user_states"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_user_states_state", "account_id", "state"),)


class DirectoryEntry(Base):
    """A cached look-up of an address in one tenant's directory (found or not), with expiry."""

    __tablename__ = "directory_cache"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    graph_user_id: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- Trust: the audit log, credential checks, latency samples and the preview before connecting ---


class AuditRecord(Base):
    """A manager's action and what it caused, written in the action's own transaction."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_log_account_at", "account_id", "at"),)


class CredentialCheck(Base):
    """The last outcome of each configured credential at the identity platform (not per account:
    the credentials are the plugin's own). ``slot`` is ``current`` or ``next``."""

    __tablename__ = "credential_checks"
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))


class LatencySample(Base):
    """Seconds from a change's arrival to its settled write in Outlook; kept for one hour."""

    __tablename__ = "latency_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_latency_samples_account_at", "account_id", "settled_at"),)


class PreviewJob(Base):
    """The account's latest preview of what connecting does, with its progress."""

    __tablename__ = "preview_jobs"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    started_by: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class PreviewUser(Base):
    """One user's line in the preview: the entries they would get, or why they would be left out."""

    __tablename__ = "preview_users"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class FeedSetting(Base):
    """Who is offered a calendar feed in an account: ``off``, ``unreachable`` (default) or ``everyone``."""

    __tablename__ = "feed_settings"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))


class FeedToken(Base):
    """A user's feed address: only the SHA-256 of its random token is kept, and looked up by it."""

    __tablename__ = "feed_tokens"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(64))
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedItem(Base):
    """An event a user's feed has listed: its ``SEQUENCE``, the hash it was last built from, and
    whether it is still the user's (``active``) or announced as cancelled until its end."""

    __tablename__ = "feed_items"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    payload_hash: Mapped[str] = mapped_column(String(64))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(String(1100))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RemovalHold(Base):
    """Removals of an account's entries held for the owner's confirmation (bridge.sync.guard): how many
    future entries the LMS's changes would remove, out of how many, of how many users, why
    (``causes``: cause → [entries, distinct things], see bridge.sync.guard.CAUSES), and who confirmed."""

    __tablename__ = "removal_holds"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    removals: Mapped[int] = mapped_column(Integer)
    future_entries: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    causes: Mapped[dict[str, list[int]]] = mapped_column(JSON)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(128))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- Outlook-side changes: each mailbox's calendarView delta, what users did, and the account's choice ---


class OutlookCheck(Base):
    """A mailbox's place in its ``calendarView/delta`` round: the link to send next (an
    ``@odata.nextLink`` mid-round, else the ``@odata.deltaLink``), the round's window and start,
    and when the mailbox was last checked (the oldest are checked first)."""

    __tablename__ = "outlook_checks"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    mailbox_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    link: Mapped[str | None] = mapped_column(Text)
    mid_round: Mapped[bool] = mapped_column(Boolean, default=False)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    round_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outlook_checks_checked", "checked_at"),)


class OutlookChange(Base):
    """What a user did in Outlook to one of their entries: ``deleted`` or ``moved`` (to ``starts_at``
    – ``ends_at``), and when the plugin saw it."""

    __tablename__ = "outlook_changes"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutlookSetting(Base):
    """Whether an entry a user moved in Outlook is put back to the LMS's time (``put_back``, the
    default when no row) or left as the user made it (``leave``)."""

    __tablename__ = "outlook_settings"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    moved: Mapped[str] = mapped_column(String(16))

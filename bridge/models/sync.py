"""The work queue and what a pass leaves: dirty keys, the entries made, each user's state,
the directory's answers and the mass-removal holds."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.models.base import Base, UTCDateTime, utcnow


class DirtyKey(Base):
    """A user whose entries must be reconciled; written in the same transaction as the change.

    ``lane`` orders the work (:class:`bridge.queue.dirty_keys.Lane`): 0 a fresh LMS change, 1 bulk work
    (switch-on, Resynchronise all, the full pass, Outlook-side checks); fresh keys are claimed first."""

    __tablename__ = "dirty_keys"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lane: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_dirty_keys_due", "due_at"),
                      Index("ix_dirty_keys_turns", "account_id", "lane", "due_at"),
                      Index("ix_dirty_keys_held", "account_id", "claimed_until"))


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


class MailboxPause(Base):
    """Graph throttled the app for a mailbox of a tenant until ``until`` (UTC): nothing is sent there
    before. ``mailbox`` ``*``: the whole tenant; ``tenant_id`` and ``mailbox`` ``*``: every tenant
    (bridge.sync.pauses). Not per LMS account: Graph's limits are the app's, whichever account asks."""

    __tablename__ = "mailbox_pauses"
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)


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

"""Trust: the audit log, credential checks, latency samples and the preview before connecting."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.models.base import Base, UTCDateTime, utcnow


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
    deadlines: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of the entries

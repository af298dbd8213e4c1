"""Outlook-side changes: each mailbox's calendarView delta, what users did, and the account's choice."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.models.base import Base, UTCDateTime


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

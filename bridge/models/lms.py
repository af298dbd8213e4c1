"""The LMS replica: users, events, sessions and enrollments as the hooks stated them, and the deliveries seen."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.models.base import Base, UTCDateTime, utcnow


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

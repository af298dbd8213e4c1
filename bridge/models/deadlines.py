"""Deadlines as the LMS stated them, each learner's own due time and "done", and the account's choice.

A deadline (an assignment's due date, a quiz's closing time) has no sessions; who it applies to is
stated per user by ``learner_deadline`` hooks (docs/HOST-CONTRACT.md, "Deadlines").
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.models.base import Base, UTCDateTime


class LmsDeadline(Base):
    """A deadline as last delivered: its default due instant (UTC) and the zone it is shown in;
    ``deleted`` keeps the version of a deletion."""

    __tablename__ = "lms_deadlines"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str | None] = mapped_column(String(64))


class LmsLearnerDeadline(Base):
    """A deadline that applies to one user: their own due instant (None: the deadline's), and whether
    they are done with it; ``deleted``: it no longer applies to them."""

    __tablename__ = "lms_learner_deadlines"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    deadline_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_lms_learner_deadlines_user", "account_id", "user_id"),)


class DeadlineSetting(Base):
    """The account's choice for deadlines: offered or not, the reminder (minutes before the due time;
    None: none) and what becomes of a deadline's entry when the learner is done (``remove``/``keep``).
    No row: the defaults of :class:`bridge.lms.settings.AccountSettings`."""

    __tablename__ = "deadline_settings"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    offered: Mapped[bool] = mapped_column(Boolean, default=True)
    reminder_minutes: Mapped[int | None] = mapped_column(Integer)
    when_done: Mapped[str] = mapped_column(String(16), default="remove")

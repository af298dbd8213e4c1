"""An LMS account and its connection to a tenant: consent requests, launches and signed requests used once,
and the account's own host keys."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.models.base import Base, UTCDateTime, utcnow


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


class AccessGrantChoice(Base):
    """How the account's tenant grants the plugin calendar access (:class:`bridge.codes.AccessGrant`),
    chosen on the page before the consent link is made; the Exchange group it names for "only the LMS's
    people"; when Connect integration or a later look last saw the tenant-wide Entra grant beside it."""

    __tablename__ = "access_grants"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    grant: Mapped[str] = mapped_column(String(32), default="organisation")
    scope_group: Mapped[str | None] = mapped_column(String(256))
    broad_grant_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UsedLaunch(Base):
    """A launch token already opened (its SHA-256), kept until it would have expired anyway."""

    __tablename__ = "used_launches"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UsedRequest(Base):
    """A signed request id (``request_id`` of ``POST /feeds/address`` or ``/users/state``) already served,
    kept until its timestamp could no longer pass the signature check."""

    __tablename__ = "used_requests"
    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class HostKey(Base):
    """A secret one LMS account signs its requests with, named by ``X-Hook-Key``.

    ``sealed`` is the secret encrypted with a key derived from ``OUTLOOK_SYNC_SECRET_KEY``
    (:mod:`bridge.accounts.host_keys`); the key works until ``revoked_at`` or ``expires_at`` (the end
    of its overlap with the key that replaced it), whichever comes first.
    """

    __tablename__ = "host_keys"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

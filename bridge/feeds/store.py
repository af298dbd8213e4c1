"""Reads and writes of the calendar feeds: the account's setting, tokens, and the items listed.

A feed's address carries a random token (256 bits from :mod:`secrets`); only its SHA-256 is
stored, and a request is answered by looking that hash up (a unique index). Comparing hashes
leaks at most how a hash of the caller's own guess compares with stored hashes, which says
nothing useful about any token, so unknown and malformed tokens cost the same and answer alike.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bridge.codes import GRAPH_STATES, FeedMode, FeedReason, Reason
from bridge.lms import eligibility, settings
from bridge.lms.rules import DeadlinePolicy
from bridge.models import (
    Connection,
    FeedItem,
    FeedToken,
    LmsDeadline,
    LmsEnrollment,
    LmsEvent,
    LmsLearnerDeadline,
    LmsUser,
    UserState,
)

MAX_TOKEN_CHARS = 128  # longer than any token issued: refused without a look-up

# Why Graph cannot put a user's sessions into Outlook (bridge.lms.eligibility, bridge.graph.errors).
UNREACHABLE_REASONS = frozenset({
    Reason.PERSONAL_EMAIL, Reason.DOMAIN_NOT_IN_TENANT, Reason.NO_EMAIL, Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE,
    Reason.USER_NOT_FOUND,
})


def token_hash(token: str) -> str:
    """The stored form of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def issue(session: Session, account_id: str, user_id: str, now: datetime) -> str:
    """A new token for the user's feed; the previous one, if any, stops working at once."""
    token = secrets.token_urlsafe(32)
    session.merge(FeedToken(account_id=account_id, user_id=user_id, token_hash=token_hash(token), issued_at=now,
                            fingerprint=None, etag=None, valid_until=None))
    return token


def revoke(session: Session, account_id: str, user_id: str) -> None:
    """Remove the user's feed address, and the record of what it listed."""
    for table in (FeedToken, FeedItem):
        session.execute(delete(table).where(table.account_id == account_id, table.user_id == user_id))


def issued_at(session: Session, account_id: str, user_id: str) -> datetime | None:
    """When the user's current feed address was made, or None when there is none."""
    row = session.get(FeedToken, (account_id, user_id))
    return row.issued_at if row is not None else None


@dataclass(frozen=True)
class Holder:
    """Whose feed a token opens, with what a fetch needs before building anything."""

    account_id: str
    user_id: str
    mode: FeedMode
    reminder_minutes: int | None
    fingerprint: str | None
    etag: str | None
    valid_until: datetime | None
    user_deleted: bool
    deadlines: DeadlinePolicy
    deadline_reminder: int | None


def holder(session: Session, token: str) -> Holder | None:
    """The feed a token opens, or None (unknown, revoked, rotated or malformed: all alike).

    ``user_deleted`` says the LMS has since deleted its user (the token is to end: :func:`revoke`)."""
    wanted = token_hash(token[:MAX_TOKEN_CHARS + 1])
    row = session.execute(settings.joined(
        select(FeedToken.account_id, FeedToken.user_id, FeedToken.fingerprint, FeedToken.etag, FeedToken.valid_until,
               LmsUser.deleted).outerjoin(LmsUser, (LmsUser.account_id == FeedToken.account_id)
                                          & (LmsUser.id == FeedToken.user_id)),
        FeedToken.account_id).where(FeedToken.token_hash == wanted)).first()
    if row is None or len(token) > MAX_TOKEN_CHARS:
        return None
    chosen = settings.from_row(row)
    return Holder(row.account_id, row.user_id, chosen.feed_mode, chosen.reminder_minutes, row.fingerprint, row.etag,
                  row.valid_until, bool(row.deleted), chosen.deadlines, chosen.deadline_reminder_minutes)


def fingerprint(session: Session, found: Holder) -> str:
    """A digest of everything the feed depends on besides time: the versions of the user, their
    enrollments and the events they attend or organize, of the deadlines that apply to them, and the
    reminders and deadline choice. Five indexed reads, no calendar built: what makes an unchanged
    feed's 304 cheap."""
    user = session.execute(select(LmsUser.version, LmsUser.deleted).where(
        LmsUser.account_id == found.account_id, LmsUser.id == found.user_id)).first()
    enrolled = sorted(tuple(row) for row in session.execute(select(
        LmsEnrollment.event_id, LmsEnrollment.session_id, LmsEnrollment.version, LmsEnrollment.deleted).where(
        LmsEnrollment.account_id == found.account_id, LmsEnrollment.user_id == found.user_id)))
    event_ids = [e[0] for e in enrolled]
    events = sorted(tuple(row) for row in session.execute(select(LmsEvent.id, LmsEvent.version, LmsEvent.deleted).where(
        LmsEvent.account_id == found.account_id,
        (LmsEvent.organizer_id == found.user_id) | LmsEvent.id.in_(event_ids))))
    stated = sorted(tuple(row) for row in session.execute(select(
        LmsLearnerDeadline.deadline_id, LmsLearnerDeadline.version, LmsLearnerDeadline.deleted).where(
        LmsLearnerDeadline.account_id == found.account_id, LmsLearnerDeadline.user_id == found.user_id)))
    deadlines = sorted(tuple(row) for row in session.execute(select(LmsDeadline.id, LmsDeadline.version).where(
        LmsDeadline.account_id == found.account_id, LmsDeadline.id.in_([d[0] for d in stated])))) if stated else []
    state = repr((tuple(user) if user else None, enrolled, events, found.reminder_minutes, stated, deadlines,
                  found.deadlines, found.deadline_reminder))
    return hashlib.sha256(state.encode()).hexdigest()


def remember(session: Session, found: Holder, fingerprint: str, etag: str, valid_until: datetime | None) -> None:
    """Record what the feed was last built from, its ETag, and until when time alone leaves it unchanged."""
    row = session.get(FeedToken, (found.account_id, found.user_id))
    if row is not None:
        row.fingerprint, row.etag, row.valid_until = fingerprint, etag, valid_until


def unreachable(*, connection_state: str | None, email: str | None, verified_domains: Collection[str] | None,
                recorded_reason: str | None) -> str | None:
    """Why Graph cannot reach a user (a reason code), or None when their sessions go to Outlook.

    A personal or foreign address (or none); without a connected tenant, everyone (``not_connected``);
    else the mailboxes the last pass could not write to (on premises, unlicensed, not in the tenant).
    """
    reason = eligibility.skip_reason(exists=True, active=True, email=email, verified_domains=verified_domains)
    if reason in UNREACHABLE_REASONS:
        return reason
    if connection_state not in GRAPH_STATES:
        return Reason.NOT_CONNECTED
    return recorded_reason if recorded_reason in UNREACHABLE_REASONS else None


def offer(feed_mode: FeedMode, unreachable_reason: str | None) -> bool:
    """Whether the account offers this user a feed."""
    return feed_mode == FeedMode.EVERYONE or (feed_mode == FeedMode.UNREACHABLE and unreachable_reason is not None)


@dataclass(frozen=True)
class Offer:
    """What the LMS is told about one user's feed."""

    offered: bool
    reason: str | None


def offer_for(session: Session, account_id: str, user_id: str) -> Offer | None:
    """Whether the user is offered a feed and why; None when the account has no such user."""
    user = session.get(LmsUser, (account_id, user_id))
    if user is None or user.deleted:
        return None
    feed_mode = settings.read(session, account_id).feed_mode
    if feed_mode == FeedMode.OFF:
        return Offer(False, FeedReason.FEEDS_OFF)
    if not user.active:
        return Offer(False, Reason.INACTIVE)
    conn = session.get(Connection, account_id)
    state = session.get(UserState, (account_id, user_id))
    why = unreachable(connection_state=conn.state if conn else None, email=user.email,
                      verified_domains=conn.verified_domains if conn else None,
                      recorded_reason=state.reason if state else None)
    if offer(feed_mode, why):
        return Offer(True, why or FeedMode.EVERYONE)
    return Offer(False, FeedReason.IN_OUTLOOK)


def offered_among(session: Session, account_id: str, rows: Collection[tuple[str, str | None, str | None]]
                  ) -> set[str]:
    """Which of these users (id, e-mail, recorded reason) the account offers a feed (for the page)."""
    feed_mode = settings.read(session, account_id).feed_mode
    if feed_mode == FeedMode.OFF or not rows:
        return set()
    conn = session.get(Connection, account_id)
    return {user_id for user_id, email, reason in rows if offer(feed_mode, unreachable(
        connection_state=conn.state if conn else None, email=email,
        verified_domains=conn.verified_domains if conn else None, recorded_reason=reason))}

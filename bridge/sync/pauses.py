"""Graph's throttling held where Graph puts it, across passes and workers: every statement that
touches ``mailbox_pauses`` lives here.

A 429 pauses what Graph's answer names (:attr:`bridge.graph.errors.Throttled.scope`): one mailbox of
one tenant (Outlook's limits are per app and mailbox: 10,000 requests per 10 minutes, 4 at a time —
learn.microsoft.com/graph/throttling-limits, Outlook service limits), the tenant (``x-ms-throttle-scope``
``Tenant_Application`` or ``Tenant``) or the app in every tenant (``Application``), for its
``Retry-After`` (learn.microsoft.com/graph/throttling: wait that long, then retry). A pass reads the
pauses in force before it sends anything (:func:`in_force`): a user with a write for a paused mailbox
sends nothing and goes back to the queue due when the pause ends, the other users of the group go on;
a paused tenant (or app) sends nothing at all. What a pass met is remembered (:func:`remember`) for
every worker.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bridge.db import Upsert
from bridge.graph import errors
from bridge.models import MailboxPause

ALL = "*"  # the mailbox of a whole tenant's pause, the tenant of the app's


@dataclass(frozen=True)
class Pauses:
    """The pauses in force for one tenant at ``now`` (UTC): by mailbox (lower-cased, as written to:
    a Graph user id or an address), and the tenant's or the app's (``whole``), if any."""

    now: datetime
    mailboxes: dict[str, datetime] = field(default_factory=dict)
    whole: datetime | None = None

    def of(self, mailboxes: Iterable[str | None] = ()) -> errors.Throttled | None:
        """The throttle holding a write to any of ``mailboxes`` (none given: the tenant's or app's
        only), with the seconds left as its ``retry_after``; None when nothing holds it."""
        held = [(self.whole, errors.TENANT, None)] + [
            (self.mailboxes.get(m.lower()), errors.MAILBOX, m) for m in mailboxes if m]
        until, scope, mailbox = max(((u, s, m) for u, s, m in held if u is not None and u > self.now),
                                    key=lambda h: h[0], default=(None, errors.MAILBOX, None))
        if until is None:
            return None
        return errors.Throttled(f"429 held: Graph paused this {scope} until {until:%Y-%m-%d %H:%M:%S} UTC",
                                (until - self.now).total_seconds(), scope=scope, mailbox=mailbox,
                                code="Paused", status=429)


def in_force(session: Session, tenant_id: str, now: datetime) -> Pauses:
    """The pauses of ``tenant_id`` (and the app's) that end after ``now``."""
    rows = session.execute(select(MailboxPause.tenant_id, MailboxPause.mailbox, MailboxPause.until).where(
        MailboxPause.tenant_id.in_([tenant_id, ALL]), MailboxPause.until > now))
    mailboxes: dict[str, datetime] = {}
    whole: datetime | None = None
    for tenant, mailbox, until in rows:
        if mailbox == ALL:
            whole = max(whole or until, until)
        elif tenant == tenant_id:
            mailboxes[mailbox] = until
    return Pauses(now, mailboxes, whole)


def rows_for(tenant_id: str, throttles: Iterable[errors.Throttled], now: datetime) -> list[dict[str, object]]:
    """The pauses ``throttles`` (429s met at ``now``) ask for, as ``mailbox_pauses`` rows, one per
    paused thing (the latest end kept). A throttled request for no mailbox (a directory look-up) that
    Graph did not say is tenant- or app-wide pauses nothing: only its user waits."""
    ends: dict[tuple[str, str], datetime] = {}
    for throttle in throttles:
        if throttle.scope == errors.APP:
            key = (ALL, ALL)
        elif throttle.scope == errors.TENANT:
            key = (tenant_id, ALL)
        elif throttle.mailbox:
            key = (tenant_id, throttle.mailbox.lower())
        else:
            continue
        until = now + timedelta(seconds=max(throttle.retry_after, 1.0))
        ends[key] = max(ends.get(key, until), until)
    return [{"tenant_id": t, "mailbox": m, "until": u} for (t, m), u in sorted(ends.items())]


# A pause met again keeps the later end (two workers may meet one throttle at once).
_PAUSE = Upsert(MailboxPause, conflict=("tenant_id", "mailbox"), update=("until",),
                where=lambda table, new: new.until > table.c.until)


def remember(session: Session, tenant_id: str, throttles: Iterable[errors.Throttled], now: datetime) -> None:
    """Record the pauses ``throttles`` ask for (:func:`rows_for`), and forget those that ended."""
    rows = rows_for(tenant_id, throttles, now)
    if rows:
        session.execute(delete(MailboxPause).where(MailboxPause.until <= now))
        session.execute(_PAUSE.statement(session), rows)

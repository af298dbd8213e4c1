"""The Outlook-side check: what users did to their entries in Outlook, seen through Graph's delta
query on each mailbox holding entries, without waiting for a change in the LMS.

One check (:func:`check`) takes at most ``limit`` mailboxes, those checked longest ago first, and
for each sends the link its round stands at (the ``@odata.deltaLink`` of the last check, kept in
the database, so a restarted worker goes on where the last one stopped), or starts a round over
the window ``now - 1 day`` … ``now + 366 days``. A round is started again when its window has
slid by a week, or when Graph no longer accepts its token. Pages are followed
(``@odata.nextLink``) up to ``pages`` per mailbox; a round not finished goes on at the next check.
Every request goes through the exchange (``$batch``, 4 per mailbox, 429s typed); slices of
20 mailboxes (one envelope a page) go 8 at a time. A mailbox (or tenant) Graph paused is not asked
until the pause ends, and a 429 met here is remembered for the passes too (:mod:`bridge.sync.pauses`).

What is seen:

- an entry reported ``@removed`` (or, in a round's first full listing, absent) is asked for by its
  id, since Graph also reports an entry moved out of the window as removed: gone (404) → "deleted
  in Outlook by the user", kept gone until a material change (docs/BEHAVIOUR.md §9); there at other
  times → moved;
- an entry listed at other times than recorded → "moved in Outlook": put back to the LMS's time by
  the next pass, or left, as the account chose (:mod:`bridge.outlook_check.store`).

Entries being written by a pass (in flight) or written since the check began are not judged.
Change notifications (subscriptions) are not used: this check is the only Outlook-side source.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta

from bridge.codes import AccessGrant
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.calendar import DeltaAsk, DeltaPage
from bridge.graph.client import Graph
from bridge.lms import grant, settings
from bridge.models import utcnow
from bridge.outlook_check import store
from bridge.sync import pauses

log = logging.getLogger("outlook_sync.outlook_check")

BEHIND = timedelta(days=1)
AHEAD = timedelta(days=366)
RENEW = timedelta(days=7)
MAILBOXES = 500  # per check: at ~1 request each, a check costs a few dozen $batch envelopes
PAGES = 10
PAGE_SIZE = 100
SLICE = 20  # mailboxes read together: one $batch envelope per page
CONCURRENCY = 8


@dataclass
class Report:
    """What one check did: mailboxes checked, Graph requests sent, entries found deleted and moved."""

    mailboxes: int = 0
    requests: int = 0
    deleted: int = 0
    moved: int = 0
    failed: int = 0

    def add(self, other: Report) -> None:
        """Count ``other``'s figures in this one's."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass
class _Round:
    box: store.Box
    fresh: bool  # this check lists the window in full (a round's first listing)
    complete: bool = False
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    failed: bool = False
    throttled: errors.Throttled | None = None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)


def check(db: Database, graph: Graph, now: datetime | None = None, limit: int = MAILBOXES,
          pages: int = PAGES, page_size: int = PAGE_SIZE, concurrency: int = CONCURRENCY) -> Report:
    """Check up to ``limit`` mailboxes, following at most ``pages`` pages of ``page_size`` entries
    each (see the module), in slices of one ``$batch`` envelope, ``concurrency`` slices at a time;
    :class:`errors.AuthFailed` of a tenant leaves its mailboxes for later (the sync suspends the
    account)."""
    now = now or utcnow()
    began = utcnow()
    with db.session() as session:
        boxes = store.due(session, limit)
        ways = {a: grant.read(session, a).grant for a in {box.account_id for box in boxes}}
    by_tenant: dict[tuple[str, AccessGrant], list[_Round]] = {}
    for box in boxes:
        by_tenant.setdefault((box.tenant_id, ways[box.account_id]), []).append(_start(box, now))
    slices = [(tenant, rounds[n:n + SLICE]) for tenant, rounds in by_tenant.items()
              for n in range(0, len(rounds), SLICE)]

    def one(work: tuple[tuple[str, AccessGrant], list[_Round]]) -> Report:
        (tenant_id, way), rounds = work
        with db.session() as session:
            held = pauses.in_force(session, tenant_id, now)
        rounds = [r for r in rounds if held.of([r.box.mailbox_id]) is None]  # paused: checked later
        report = Report(mailboxes=len(rounds))
        try:
            _read(graph.under(way), tenant_id, way, rounds, pages, page_size, report)
            with db.session() as session:
                pauses.remember(session, tenant_id, [r.throttled for r in rounds if r.throttled], now)
            _settle(db, graph.under(way), tenant_id, way, rounds, began, now, report)
        except errors.AuthFailed as exc:
            log.warning("outlook check: tenant %s refused (%s)", tenant_id, exc.reason)
            report.failed += len(rounds)
        return report

    total = Report()
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="outlook-check") as pool:
        for part in pool.map(one, slices):
            total.add(part)
    return total


def _start(box: store.Box, now: datetime) -> _Round:
    """Go on with the stored round, or begin one over a fresh window."""
    stale = box.window_start is None or box.window_start + RENEW <= now - BEHIND
    if box.link and not stale:
        return _Round(box, fresh=False)  # a round begun by an earlier check: not listed in full here
    box.link, box.mid_round = None, True
    box.window_start, box.window_end, box.round_started_at = now - BEHIND, now + AHEAD, now
    return _Round(box, fresh=True)


def _ask(box: store.Box) -> DeltaAsk:
    if box.link:
        return DeltaAsk(box.mailbox_id, link=box.link)
    assert box.window_start is not None and box.window_end is not None
    return DeltaAsk(box.mailbox_id, start=_iso(box.window_start), end=_iso(box.window_end))


def _read(graph: Graph, tenant_id: str, way: AccessGrant, rounds: list[_Round], pages: int, page_size: int,
          report: Report) -> None:
    """Follow each mailbox's pages until its deltaLink (or ``pages`` pages), all mailboxes at once."""
    pending = list(rounds)
    for _ in range(pages):
        if not pending:
            return
        answers = graph.calendar.delta(tenant_id, [_ask(r.box) for r in pending], page_size, way)
        report.requests += len(pending)
        going = []
        for round_, answer in zip(pending, answers, strict=True):
            if isinstance(answer, errors.GraphError):
                _failed(round_, answer)
                report.failed += 1
                continue
            _take(round_, answer)
            if not round_.complete:
                going.append(round_)
        pending = going
    for round_ in pending:
        round_.fresh = False  # listed in part: absence proves nothing this time


def _failed(round_: _Round, error: errors.GraphError) -> None:
    round_.failed = True
    round_.throttled = error if isinstance(error, errors.Throttled) else None
    if isinstance(error, errors.BadRequest | errors.NotFound):
        round_.box.link = None  # token refused or expired (410): a new round next time


def _take(round_: _Round, page: DeltaPage) -> None:
    round_.changed.update(page.changed)
    round_.removed.update(page.removed)
    round_.removed.difference_update(page.changed)
    if page.next_link:
        round_.box.link, round_.box.mid_round = page.next_link, True
    else:
        round_.box.link, round_.box.mid_round, round_.complete = page.delta_link, False, True


def _settle(db: Database, graph: Graph, tenant_id: str, way: AccessGrant, rounds: list[_Round], began: datetime,
            now: datetime, report: Report) -> None:
    """Judge what was seen against the records, ask Graph about the entries reported gone, record."""
    with db.session() as session:
        judged = store.judged(session, [r.box for r in rounds if not r.failed], began)
        choices = {a: settings.read(session, a).moved_choice for a in {r.box.account_id for r in rounds}}
    gone: list[tuple[_Round, store.Judged]] = []
    deleted: list[tuple[_Round, store.Judged]] = []
    moved: list[tuple[_Round, store.Judged, tuple[str, str]]] = []
    for round_ in rounds:
        mine = judged.get((round_.box.account_id, round_.box.mailbox_id), {})
        missing = set(round_.removed)
        if round_.fresh and round_.complete:
            window = round_.box.window_start, round_.box.window_end
            missing |= {gid for gid, e in mine.items() if gid not in round_.changed
                        and window[0] is not None and window[1] is not None
                        and e.starts_at < window[1] and e.ends_at > window[0]}
        gone += [(round_, mine[gid]) for gid in sorted(missing) if gid in mine]
        moved += [(round_, mine[gid], times) for gid, times in round_.changed.items()
                  if gid in mine and _differs(mine[gid], times)]
    if gone:
        answers = graph.calendar.when(tenant_id, [(r.box.mailbox_id, e.graph_event_id) for r, e in gone], way)
        report.requests += len(gone)
        for (round_, entry), answer in zip(gone, answers, strict=True):
            if isinstance(answer, errors.NotFound):
                deleted.append((round_, entry))
            elif not isinstance(answer, errors.GraphError) and _differs(entry, answer):
                moved.append((round_, entry, answer))
    with db.session() as session:
        for round_, entry in deleted:
            store.record_deleted(session, round_.box.account_id, entry, now)
        for round_, entry, (start, end) in moved:
            account_id = round_.box.account_id
            report.moved += store.record_moved(session, account_id, entry, _utc(start), _utc(end), now,
                                               choices[account_id])
        store.save_rounds(session, [r.box for r in rounds], now)
    report.deleted += len(deleted)


def _differs(entry: store.Judged, times: tuple[str, str]) -> bool:
    return (_utc(times[0]), _utc(times[1])) != (entry.starts_at.replace(microsecond=0),
                                                 entry.ends_at.replace(microsecond=0))

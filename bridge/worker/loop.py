"""The worker: claims dirty users, reconciles them in parallel, and runs its housekeeping jobs.

It only orchestrates: the queue's SQL is in :mod:`bridge.queue.dirty_keys`, the rules in :mod:`bridge.lms.rules`,
the Graph calls behind :mod:`bridge.graph`, what to do after a failure in :mod:`bridge.queue.retry`, and
each housekeeping job, named with its period in :meth:`Worker.jobs`, in :mod:`bridge.worker.jobs`.
"""
from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bridge import logs, metrics
from bridge.accounts import connection
from bridge.codes import ConnectionState
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.models import utcnow
from bridge.outlook_check import check as outlook_check
from bridge.queue import dirty_keys, held_keys, wakeup
from bridge.sync import keys as settling
from bridge.sync import run as sync
from bridge.sync.guard import Guard
from bridge.worker import jobs
from bridge.worker.jobs import Job

log = logging.getLogger("outlook_sync.worker")

HOUSEKEEPING_EVERY = 15.0  # seconds: finishing disconnects, starting full passes, probing and refreshing tenants
IDLE_SLEEP = 0.1  # an idle look for work is one indexed claim; it bounds how long a hook waits for a worker
GROUPS_PER_CLAIM = 2  # a worker takes a little at a time, so that several share one account's backlog
GROUP_SIZE = 10  # users in a pass of fresh changes: one $batch envelope (20 writes), back quickly
BULK_GROUP_SIZE = 100  # at most, users in a pass of a backfill: the pass's reads and write-backs shared
WRITES_PER_PASS = 200  # a backfill's pass is sized to send about this many writes: ten envelopes


def _groups(claims: list[dirty_keys.Claim], size_of: Callable[[str, dirty_keys.Lane], int],
            threads: int) -> list[list[dirty_keys.Claim]]:
    """Split claims into groups of one account and one lane each, spread over the ``threads`` free:
    each (account, lane)'s keys in groups of at most ``size_of(account id, lane)`` users and at least
    :data:`GROUP_SIZE` (or all of them, when fewer) — so a small backlog, or a backfill's start while
    threads are idle, is worked by many threads in groups of 10, and a backfill keeping every thread
    busy in passes of the size its writes give (:meth:`Worker.group_size`)."""
    by_lane: dict[tuple[str, dirty_keys.Lane], list[dirty_keys.Claim]] = {}
    for claim in claims:
        by_lane.setdefault((claim.account_id, claim.lane), []).append(claim)
    groups: list[list[dirty_keys.Claim]] = []
    for (account_id, lane), keys in by_lane.items():
        size = size_of(account_id, lane)
        even = -(-len(keys) // max(threads, 1))
        per_group = max(min(GROUP_SIZE, size, len(keys)), min(size, even))
        groups += [keys[i:i + per_group] for i in range(0, len(keys), per_group)]
    return groups


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """While the loop runs, the objects made before it (modules, SQLAlchemy's tables and statements,
    MSAL, the emulator's client in tests) are out of the cyclic collector's sight (``gc.freeze``):
    a full collection looks only at what the loop made, where it looked at every object of the
    process (BENCHMARKS.md, B1); they are given back when it ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def default_name(instance: object) -> str:
    """``host:pid:instance`` — which machine and process holds a key (``dirty_keys.claimed_by``, at most
    64 characters, and every log line of the worker): the host name is cut to 40 characters."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{id(instance):x}"


def clock_warning(offset: float | None, lease: timedelta) -> str | None:
    """What to tell the operator when this machine's clock is ``offset`` seconds off the database
    server's (:meth:`Database.clock_offset`; None: one machine) by more than a heartbeat (a fifth of
    ``lease``): leases are stamped with each worker's clock, so a machine that far ahead could take a
    key another still holds, and one that far behind holds its keys longer. None when it is fine."""
    beat = lease.total_seconds() / 5
    if offset is None or abs(offset) <= beat:
        return None
    side = "ahead of" if offset > 0 else "behind"
    return (f"this machine's clock is {abs(offset):.1f} s {side} the database server's; leases "
            f"({lease.total_seconds():.0f} s, renewed every {beat:.0f} s) need the machines' clocks within "
            f"{beat:.0f} s of each other: keep every machine on NTP")


def _unavailable(error: DBAPIError) -> bool:
    """The database cannot be reached (lost or refused connection), as opposed to a bad statement."""
    return isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated


class Worker:
    """One worker process's loop; several may share a PostgreSQL database."""

    def __init__(self, db: Database, graph: Graph, concurrency: int = 32,
                 full_reconcile: timedelta = timedelta(hours=1), name: str | None = None,
                 group_size: int = GROUP_SIZE, bulk_group_size: int = BULK_GROUP_SIZE,
                 lease: timedelta = dirty_keys.LEASE, guard: Guard | None = None,
                 outlook_every: timedelta = timedelta(minutes=1),
                 outlook_mailboxes: int = outlook_check.MAILBOXES, account_cap: int | None = None) -> None:
        self.db, self.graph = db, graph
        self.lease = lease
        self.guard = guard or Guard()
        self.concurrency = concurrency
        # users per pass by lane, at most: a fresh change is back after one envelope; a backfill shares
        # each pass's reads and write-backs among more entries (BENCHMARKS.md, B1's CPU per entry)
        self.group_sizes = {dirty_keys.Lane.FRESH: group_size, dirty_keys.Lane.BULK: max(group_size, bulk_group_size)}
        self._writes_per_user: dict[str, float] = {}  # account → writes per user of its latest backfill pass
        # keys of one account in flight while others wait (dirty_keys.claim): half the threads' passes
        self.account_cap = account_cap or dirty_keys.account_cap(concurrency, self.group_sizes[dirty_keys.Lane.BULK])
        self.full_reconcile = full_reconcile
        self.name = name or default_name(self)
        self._stop = threading.Event()
        self._wake = threading.Event()  # a group finished, or work was queued
        self.outlook_every, self.outlook_mailboxes = outlook_every, outlook_mailboxes
        self._outlook: threading.Thread | None = None
        self._timetable = jobs.Timetable(self.jobs())

    def jobs(self) -> list[Job]:
        """The housekeeping, one place: each job with its period in seconds (:mod:`bridge.worker.jobs`).

        The lease heartbeat runs on its own thread (a fifth of the lease) whatever the work and Graph
        are doing; the others run from the loop between claims, in this order, when due; the
        Outlook-side check starts one period after the worker (not on every restart) and then runs
        beside the loop, one at a time.
        """
        db, graph = self.db, self.graph
        return [
            Job("lease-heartbeat", self.lease.total_seconds() / 5,
                partial(jobs.renew_leases, db, self.name, self.lease), own_thread=True),
            Job("disconnect-finishing", HOUSEKEEPING_EVERY, partial(jobs.finish_disconnects, db)),
            Job("full-pass-scheduling", HOUSEKEEPING_EVERY, partial(jobs.start_full_passes, db, self.full_reconcile)),
            Job("delivery-clean-up", self.full_reconcile.total_seconds(), partial(jobs.forget_deliveries, db)),
            Job("request-id-clean-up", 300.0, partial(jobs.forget_request_ids, db)),
            Job("tenant-probe", HOUSEKEEPING_EVERY, partial(jobs.check_tenants, db, graph, connection.probes_due)),
            Job("domain-refresh", HOUSEKEEPING_EVERY, partial(jobs.check_tenants, db, graph, connection.domains_due)),
            Job("outlook-check", self.outlook_every.total_seconds(), self._start_outlook_check,
                first=self.outlook_every.total_seconds()),
        ]

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self, idle_sleep: float = IDLE_SLEEP) -> None:
        """Work until :meth:`stop` is called; a database outage pauses the loop, it does not end it.

        Idle, it waits for a group to finish or to be told that work was queued (bridge.queue.wakeup:
        PostgreSQL's notifications, a SQLite file's commits), and else polls every ``idle_sleep``
        seconds (every second when told: the poll then only finds retries that fell due)."""
        with _frozen_heap(), self._timetable.threads(), wakeup.listening(self.db.url, self._wake) as notified, \
                ThreadPoolExecutor(self.concurrency, thread_name_prefix="sync") as pool:
            running: set[Future[None]] = set()
            outages = 0
            poll = max(idle_sleep, 1.0) if notified else idle_sleep
            while not self._stop.is_set():
                try:
                    started = self._fill(pool, running)
                except DBAPIError as exc:
                    if not _unavailable(exc):
                        raise
                    pause = min(idle_sleep * 2**outages, 30.0)
                    log.warning("worker: database unavailable (%s); trying again in %.1f s", type(exc).__name__, pause)
                    outages += 1
                    self._stop.wait(pause)
                    continue
                outages = 0
                if not started or len(running) >= self.concurrency:
                    self._wake.wait(poll)
                    self._wake.clear()
        self._outlook_done()

    def drain(self, timeout: float = 120.0, due_within: float = 5.0) -> int:
        """Work until no key is ready or due within ``due_within`` seconds (for the demo and tests);
        returns the keys worked."""
        done = 0
        deadline = time.monotonic() + timeout
        with _frozen_heap(), self._timetable.threads(), \
                ThreadPoolExecutor(self.concurrency, thread_name_prefix="sync") as pool:
            running: set[Future[None]] = set()
            while time.monotonic() < deadline:
                started = self._fill(pool, running)
                if started and len(running) < self.concurrency:
                    continue  # threads still idle: claim again at once, as run() does
                if not running:
                    if started == 0 and not self._due_soon(due_within):
                        break
                    time.sleep(0.05)
                    continue
                finished, running = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
                done += len(finished)
                for future in finished:
                    future.result()
        self._outlook_done()
        return done

    def _outlook_done(self) -> None:
        """Wait for an Outlook-side check under way (drain and run end only after it)."""
        if self._outlook is not None:
            self._outlook.join()

    def group_size(self, account_id: str, lane: dirty_keys.Lane) -> int:
        """Users in one pass of this account's keys in ``lane``: fresh changes ``group_size``; a backfill's
        pass sized to send about :data:`WRITES_PER_PASS` writes, by the writes per user of the account's
        latest backfill pass — two sessions each: 100 users; twenty deadlines each: 10, so a pass of
        learners with many entries does not send dozens of envelopes one after another while other
        threads are idle — between ``group_size`` and ``bulk_group_size``; ``group_size`` until a pass
        has told."""
        fewest, most = self.group_sizes[dirty_keys.Lane.FRESH], self.group_sizes[lane]
        per_user = self._writes_per_user.get(account_id) if lane == dirty_keys.Lane.BULK else None
        if per_user is None:
            return fewest
        return most if per_user == 0 else max(fewest, min(most, round(WRITES_PER_PASS / per_user)))

    def _fill(self, pool: ThreadPoolExecutor, running: set[Future[None]]) -> int:
        """Claim what the free threads are about to work (a few groups at a time) and start them."""
        running -= {f for f in running if f.done()}
        self._housekeeping()
        idle = self.concurrency - len(running)
        if idle <= 0:
            return 0
        with self.db.session() as session:
            claims = dirty_keys.claim(session, self.name, min(idle, GROUPS_PER_CLAIM) * max(self.group_sizes.values()),
                                      lease=self.lease, cap=self.account_cap)
        for group in _groups(claims, self.group_size, idle):
            future = pool.submit(self._work, group)
            future.add_done_callback(lambda _: self._wake.set())
            running.add(future)
        return len(claims)

    def _due_soon(self, within: float) -> bool:
        """Whether a key of a working account is waiting (drain stops only when none is)."""
        with self.db.session() as session:
            due = dirty_keys.next_due(session)
        return due is not None and due <= utcnow() + timedelta(seconds=within)

    def _work(self, group: list[dirty_keys.Claim]) -> None:
        """Reconcile a group of users of one account and settle each user's key (:mod:`bridge.sync.run`);
        settling is tried again while the database is unreachable (unsettled keys stay claimed)."""
        with logs.scope(account=group[0].account_id, user=group[0].user_id if len(group) == 1 else None):
            self._work_group(group)

    def _work_group(self, group: list[dirty_keys.Claim]) -> None:
        now = utcnow()
        reconcile = sync.Pass(self.db, self.graph, group[0].account_id, [c.user_id for c in group], now,
                              self.guard, changed=[c.user_id for c in group if c.marked_at is not None])
        try:
            results = reconcile.run()
            if group[0].lane == dirty_keys.Lane.BULK and reconcile.sent is not None:
                self._writes_per_user[group[0].account_id] = reconcile.sent / len(group)
        except errors.AuthFailed as exc:
            log.warning("account %s suspended: %s", group[0].account_id, exc.reason)
            with self.db.session() as session:
                held_keys.lock(session, group)
                connection.suspend(session, group[0].account_id, exc, now)
                for claim in group:
                    held_keys.release(session, claim, self.name)
            for _ in group:
                metrics.settled(ConnectionState.SUSPENDED, None)
            return
        except Exception as exc:  # a bug must not stop the other users: record and retry slowly
            log.exception("reconcile of a group of users failed unexpectedly")
            results = {c.user_id: exc for c in group}
        pause = 0.5
        while True:
            try:
                self._settle(group, results, now)
                return
            except DBAPIError as exc:
                if not _unavailable(exc) or self._stop.is_set():
                    raise
                log.warning("worker: database unavailable (%s) while settling %d keys; trying again in %.1f s",
                            type(exc).__name__, len(group), pause)
                self._stop.wait(pause)
                pause = min(pause * 2, 30.0)

    def _settle(self, group: list[dirty_keys.Claim], results: dict[str, sync.Result], now: datetime) -> None:
        settling.settle_keys(self.db, self.name, group, results, now)

    def _housekeeping(self) -> None:
        """Run the loop's housekeeping jobs that have fallen due (:meth:`jobs`)."""
        self._timetable.run_due()

    def _start_outlook_check(self, now: datetime) -> None:
        """Start the Outlook-side check in a thread of its own, unless one is under way: a check takes
        seconds, and hooks must not wait for it."""
        if not (self._outlook and self._outlook.is_alive()):
            self._outlook = threading.Thread(target=self.check_outlook, args=(now,), name="outlook-check", daemon=True)
            self._outlook.start()

    def check_outlook(self, now: datetime) -> outlook_check.Report:
        """The Outlook-side check of at most ``outlook_mailboxes`` mailboxes (:func:`jobs.check_outlook`)."""
        return jobs.check_outlook(self.db, self.graph, self.outlook_mailboxes, now)

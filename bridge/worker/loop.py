"""The worker: claims dirty users, reconciles them in parallel, and keeps accounts healthy.

It only orchestrates: the queue's SQL is in :mod:`bridge.queue.dirty_keys`, the rules in :mod:`bridge.lms.rules`,
the Graph calls behind :mod:`bridge.graph`, and what to do after a failure in :mod:`bridge.queue.retry`.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bridge import logs, metrics
from bridge.accounts import connection
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.lms import ingest
from bridge.models import utcnow
from bridge.outlook_check import check as outlook_check
from bridge.queue import dirty_keys, wakeup
from bridge.sync import run as sync
from bridge.sync.guard import Guard

log = logging.getLogger("outlook_sync.worker")

HOUSEKEEPING_EVERY = 15.0
IDLE_SLEEP = 0.1  # an idle look for work is one indexed claim; it bounds how long a hook waits for a worker
GROUPS_PER_CLAIM = 2  # a worker takes a little at a time, so that several share one account's backlog


def _groups(claims: list[dirty_keys.Claim], size: int, count: int) -> list[list[dirty_keys.Claim]]:
    """Split claims into at most ``count`` groups of one account each, evenly, none over ``size``."""
    by_account: dict[str, list[dirty_keys.Claim]] = {}
    for claim in claims:
        by_account.setdefault(claim.account_id, []).append(claim)
    per_group = max(1, min(size, -(-len(claims) // max(count, 1))))
    return [keys[i:i + per_group] for keys in by_account.values() for i in range(0, len(keys), per_group)]


def _unavailable(error: DBAPIError) -> bool:
    """The database cannot be reached (lost or refused connection), as opposed to a bad statement."""
    return isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated


class Worker:
    """One worker process's loop; several may share a PostgreSQL database."""

    def __init__(self, db: Database, graph: Graph, concurrency: int = 32,
                 full_reconcile: timedelta = timedelta(hours=1), name: str | None = None,
                 group_size: int = 10, lease: timedelta = dirty_keys.LEASE, guard: Guard | None = None,
                 outlook_every: timedelta = timedelta(minutes=1),
                 outlook_mailboxes: int = outlook_check.MAILBOXES) -> None:
        self.db, self.graph = db, graph
        self.lease = lease
        self.guard = guard or Guard()
        self.concurrency = concurrency
        self.group_size = group_size
        self.full_reconcile = full_reconcile
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._wake = threading.Event()  # a group finished, or work was queued
        self._housekeeping_at = 0.0
        self.outlook_every, self.outlook_mailboxes = outlook_every, outlook_mailboxes
        self._outlook_at = time.monotonic() + outlook_every.total_seconds()  # not on every restart
        self._outlook: threading.Thread | None = None

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self, idle_sleep: float = IDLE_SLEEP) -> None:
        """Work until :meth:`stop` is called; a database outage pauses the loop, it does not end it.

        Idle, it waits for a group to finish or, on PostgreSQL, for a notification that work was
        queued (bridge.queue.wakeup), and else polls every ``idle_sleep`` seconds (every second when
        notifications come: the poll then only finds retries that fell due)."""
        with self._heartbeat(), wakeup.listening(self.db.url, self._wake) as notified, \
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
        with self._heartbeat(), ThreadPoolExecutor(self.concurrency, thread_name_prefix="sync") as pool:
            running: set[Future[None]] = set()
            while time.monotonic() < deadline:
                started = self._fill(pool, running)
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

    @contextmanager
    def _heartbeat(self) -> Iterator[None]:
        """Renew the lease of the keys this worker holds, on a timer of its own (a fifth of the lease),
        whatever the work and Graph are doing; a dead worker's keys are free within one lease."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.lease.total_seconds() / 5):
                try:
                    with self.db.session() as session:
                        dirty_keys.extend(session, self.name, self.lease)
                except DBAPIError as exc:  # the loop pauses on its own; the next beat tries again
                    log.warning("worker: lease not renewed (%s)", type(exc).__name__)

        thread = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _fill(self, pool: ThreadPoolExecutor, running: set[Future[None]]) -> int:
        """Claim what the free threads are about to work (a few groups at a time) and start them."""
        running -= {f for f in running if f.done()}
        self._housekeeping()
        free = min(self.concurrency - len(running), GROUPS_PER_CLAIM)
        if free <= 0:
            return 0
        with self.db.session() as session:
            claims = dirty_keys.claim(session, self.name, free * self.group_size, lease=self.lease)
        for group in _groups(claims, self.group_size, free):
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
        try:
            results = sync.Pass(self.db, self.graph, group[0].account_id, [c.user_id for c in group], now,
                                self.guard).run()
        except errors.AuthFailed as exc:
            log.warning("account %s suspended: %s", group[0].account_id, exc.reason)
            with self.db.session() as session:
                connection.suspend(session, group[0].account_id, exc, now)
                for claim in group:
                    dirty_keys.release(session, claim, self.name)
            for _ in group:
                metrics.settled("suspended", None)
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
        sync.settle_keys(self.db, self.name, group, results, now)

    def _housekeeping(self) -> None:
        """Every few seconds: probe suspended tenants, finish disconnects, and run the periodic full
        pass (the users whose inputs may have changed by themselves, and a fresh look at the tenant's
        domains: everyone when they changed); every ``outlook_every``, the Outlook-side check, in a
        thread of its own (one at a time)."""
        if time.monotonic() < self._housekeeping_at:
            return
        self._housekeeping_at = time.monotonic() + HOUSEKEEPING_EVERY
        now = utcnow()
        refresh: list[str] = []
        with self.db.session() as session:
            rows = connection.live(session)
            for row in rows:
                if row.state == connection.DISCONNECTING and not dirty_keys.pending(session, row.account_id):
                    connection.finish_disconnect(session, row.account_id)
                elif row.state == connection.CONNECTED and (
                    row.full_reconcile_at is None or row.full_reconcile_at + self.full_reconcile <= now
                ):
                    connection.mark_due(session, row.account_id, row.full_reconcile_at, now)
                    row.full_reconcile_at = now
                    refresh.append(row.account_id)
            if refresh:
                ingest.forget_old_deliveries(session, now)
            suspended = [r.account_id for r in rows if r.state == connection.SUSPENDED
                         and r.retry_at is not None and r.retry_at <= now]
        for account_id in suspended:
            self._probe(account_id, now)
        for account_id in refresh:
            self._refresh_domains(account_id, now)
        if time.monotonic() >= self._outlook_at and not (self._outlook and self._outlook.is_alive()):
            self._outlook_at = time.monotonic() + self.outlook_every.total_seconds()
            self._outlook = threading.Thread(target=self.check_outlook, args=(now,), name="outlook-check", daemon=True)
            self._outlook.start()  # beside the loop: a check takes seconds, hooks must not wait for it

    def check_outlook(self, now: datetime) -> outlook_check.Report:
        """The Outlook-side check of the mailboxes checked longest ago (at most ``outlook_mailboxes``,
        :mod:`bridge.outlook_check.check`); a Graph or database failure is logged and the next check tries again."""
        try:
            report = outlook_check.check(self.db, self.graph, now, self.outlook_mailboxes)
        except (errors.GraphError, DBAPIError) as exc:
            log.warning("outlook check failed: %s", type(exc).__name__)
            return outlook_check.Report(failed=1)
        if report.deleted or report.moved:
            log.info("outlook check: %d mailboxes, %d entries deleted and %d moved in Outlook",
                     report.mailboxes, report.deleted, report.moved)
        return report

    def _refresh_domains(self, account_id: str, now: datetime) -> None:
        """Read the tenant's verified domains again: a domain added or removed changes who is synced."""
        with self.db.session() as session:
            tenant = connection.connection(session, account_id).tenant_id
        if tenant is None:
            return
        try:
            domains = self.graph.directory.verified_domains(tenant)
        except errors.AuthFailed as exc:
            with self.db.session() as session:
                connection.suspend(session, account_id, exc, now)
            return
        except errors.GraphError:
            return  # the next full pass tries again
        with self.db.session() as session:
            connection.domains_changed(session, account_id, domains, now)

    def _probe(self, account_id: str, now: datetime) -> None:
        """Try a suspended tenant again; resume it when it answers, else back off further."""
        with self.db.session() as session:
            row = connection.connection(session, account_id)
            tenant = row.tenant_id
        if tenant is None:
            return
        try:
            domains = connection.prove_access(self.graph, tenant)
        except errors.AuthFailed as exc:
            with self.db.session() as session:
                connection.suspend(session, account_id, exc, now)
            return
        except errors.GraphError:
            return
        with self.db.session() as session:
            row = connection.connection(session, account_id)
            if row.state == connection.SUSPENDED:
                row.state, row.reason, row.detail, row.failures, row.retry_at = (
                    connection.CONNECTED, None, None, 0, None)
                row.verified_domains, row.domains_checked_at = domains, now
                connection.mark_everyone(session, account_id)

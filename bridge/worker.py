"""The worker: claims dirty users, reconciles them in parallel, and keeps accounts healthy.

It only orchestrates: the queue's SQL is in :mod:`bridge.queue`, the rules in :mod:`bridge.rules`,
the Graph calls behind :mod:`bridge.graph`, and what to do after a failure in :mod:`bridge.retry`.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bridge import connection, ingest, logs, metrics, queue, retry, store
from bridge.bulk import GroupSync
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.models import Connection, DirtyKey, utcnow
from bridge.sync import FAILED, Outcome
from bridge.trust import health

log = logging.getLogger("outlook_sync.worker")

HOUSEKEEPING_EVERY = 15.0
IDLE_SLEEP = 0.1  # an idle look for work is one indexed claim; it bounds how long a hook waits for a worker


def _groups(claims: list[queue.Claim], size: int, count: int) -> list[list[queue.Claim]]:
    """Split claims into at most ``count`` groups of one account each, evenly, none over ``size``."""
    by_account: dict[str, list[queue.Claim]] = {}
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
                 group_size: int = 10) -> None:
        self.db, self.graph = db, graph
        self.concurrency = concurrency
        self.group_size = group_size
        self.full_reconcile = full_reconcile
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._housekeeping_at = 0.0

    def stop(self) -> None:
        self._stop.set()

    def run(self, idle_sleep: float = IDLE_SLEEP) -> None:
        """Work until :meth:`stop` is called; a database outage pauses the loop, it does not end it."""
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="sync") as pool:
            running: set[Future[None]] = set()
            outages = 0
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
                if running:
                    wait(running, timeout=idle_sleep, return_when=FIRST_COMPLETED)
                elif not started:
                    self._stop.wait(idle_sleep)

    def drain(self, timeout: float = 120.0) -> int:
        """Work until no key is ready (for the demo and tests); returns the keys worked."""
        done = 0
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="sync") as pool:
            running: set[Future[None]] = set()
            while time.monotonic() < deadline:
                started = self._fill(pool, running)
                if not running:
                    if started == 0 and not self._due_soon():
                        break
                    time.sleep(0.05)
                    continue
                finished, running = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
                done += len(finished)
                for future in finished:
                    future.result()
        return done

    def _fill(self, pool: ThreadPoolExecutor, running: set[Future[None]]) -> int:
        """Claim as many keys as there are free threads and start them."""
        running -= {f for f in running if f.done()}
        self._housekeeping()
        free = self.concurrency - len(running)
        if free <= 0:
            return 0
        with self.db.session() as session:
            claims = queue.claim(session, self.name, free * self.group_size)
        for group in _groups(claims, self.group_size, free):
            running.add(pool.submit(self._work, group))
        return len(claims)

    def _due_soon(self) -> bool:
        """Whether a key of a working account is waiting (drain stops only when none is)."""
        with self.db.session() as session:
            row = session.execute(
                select(DirtyKey.due_at).join(Connection, Connection.account_id == DirtyKey.account_id)
                .where(Connection.state.in_(queue.WORKING_STATES))
                .order_by(DirtyKey.due_at).limit(1)
            ).first()
        return row is not None and row[0] <= utcnow() + timedelta(seconds=5)

    def _work(self, group: list[queue.Claim]) -> None:
        """Reconcile a group of users of one account and settle each user's key."""
        with logs.scope(account=group[0].account_id, user=group[0].user_id if len(group) == 1 else None):
            self._work_group(group)

    def _work_group(self, group: list[queue.Claim]) -> None:
        now = utcnow()
        account_id = group[0].account_id
        try:
            results: dict[str, Outcome | Exception] = GroupSync(
                self.db, self.graph, account_id, [c.user_id for c in group], now).run()
        except errors.AuthFailed as exc:
            log.warning("account %s suspended: %s", account_id, exc.reason)
            with self.db.session() as session:
                connection.suspend(session, account_id, exc, now)
                for claim in group:
                    queue.release(session, claim, self.name)
            for _ in group:
                metrics.settled("suspended", None)
            return
        except Exception as exc:  # a bug must not stop the other users: record and retry slowly
            log.exception("reconcile of a group of users failed unexpectedly")
            results = {c.user_id: exc for c in group}
        pause = 0.5
        while True:  # unsettled keys would stay claimed: the heartbeat renews every key this worker holds
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

    def _settle(self, group: list[queue.Claim], results: dict[str, Outcome | Exception], now: datetime) -> None:
        """Complete, retry or give up each key of a worked group, in one transaction."""
        account_id = group[0].account_id
        with self.db.session() as session:
            done = [c for c in group if isinstance(results[c.user_id], Outcome)]
            health.record_latencies(session, account_id, done, now, utcnow())
            queue.complete_all(session, done, self.name)
            queue.mark_dirty(session, account_id, [
                c.user_id for c in done if cast(Outcome, results[c.user_id]).again])
            outcomes = []
            for claim in group:
                result = results[claim.user_id]
                if isinstance(result, Outcome):
                    outcomes.append((result.state, claim.marked_at))
                    continue
                decision = retry.after_user_failure(result, claim.attempts, now)
                if isinstance(decision, retry.GiveUp):
                    store.set_user_state(session, claim.account_id, claim.user_id, FAILED, "error", decision.reason)
                    queue.complete(session, claim, self.name)
                    outcomes.append(("gave_up", claim.marked_at))
                else:
                    queue.retry(session, claim, self.name, decision.at, decision.reason)
                    outcomes.append(("retry", None))
        settled_at = utcnow()
        for outcome, marked_at in outcomes:
            metrics.settled(outcome, marked_at, settled_at)

    def _housekeeping(self) -> None:
        """Every few seconds: renew leases, probe suspended tenants, finish disconnects,
        and queue the periodic full reconcile (with a fresh look at the tenant's domains)."""
        if time.monotonic() < self._housekeeping_at:
            return
        self._housekeeping_at = time.monotonic() + HOUSEKEEPING_EVERY
        now = utcnow()
        refresh: list[str] = []
        with self.db.session() as session:
            queue.extend(session, self.name, now)
            rows = session.scalars(select(Connection).where(
                Connection.state.in_((connection.SUSPENDED, connection.DISCONNECTING, connection.CONNECTED))
            )).all()
            for row in rows:
                if row.state == connection.DISCONNECTING and not queue.pending(session, row.account_id):
                    connection.finish_disconnect(session, row.account_id)
                elif row.state == connection.CONNECTED and (
                    row.full_reconcile_at is None or row.full_reconcile_at + self.full_reconcile <= now
                ):
                    row.full_reconcile_at = now
                    connection.mark_everyone(session, row.account_id)
                    refresh.append(row.account_id)
            if refresh:
                ingest.forget_old_deliveries(session, now)
            suspended = [r.account_id for r in rows if r.state == connection.SUSPENDED
                         and r.retry_at is not None and r.retry_at <= now]
        for account_id in suspended:
            self._probe(account_id, now)
        for account_id in refresh:
            self._refresh_domains(account_id, now)

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
            row = connection.connection(session, account_id)
            row.verified_domains, row.domains_checked_at = domains, now

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

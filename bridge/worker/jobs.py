"""The worker's housekeeping: named jobs, each with its period, and the timetable that runs them.

Each job only orchestrates: what it changes is written by the module that owns those tables (the
connection's state by :mod:`bridge.accounts.connection`, the full pass's clock by
:mod:`bridge.accounts.schedule`, deliveries by :mod:`bridge.lms.ingest`, signed request ids by
:mod:`bridge.accounts.request_ids`, the queue's leases by
:mod:`bridge.queue.dirty_keys`). The worker lists its jobs in one table
(:meth:`bridge.worker.loop.Worker.jobs`); a :class:`Timetable` runs those of the loop's thread
when they fall due, and starts each of the others on a thread of its own.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bridge.accounts import connection, request_ids, schedule
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.lms import ingest
from bridge.models import utcnow
from bridge.outlook_check import check as outlook_check
from bridge.queue import held_keys

log = logging.getLogger("outlook_sync.worker")


@dataclass(frozen=True)
class Job:
    """A housekeeping job: its ``name``, its period ``every`` (seconds), and ``run(now)`` (``now`` in UTC).

    ``first`` is how long after the worker starts it first falls due (seconds). A job with
    ``own_thread`` runs instead on a timer thread of its own, every ``every`` seconds while the worker
    works (the first time one period in), whatever the loop is doing.
    """

    name: str
    every: float
    run: Callable[[datetime], object]
    first: float = 0.0
    own_thread: bool = False


class Timetable:
    """When each job of a worker falls due next, in seconds of ``clock`` (monotonic)."""

    def __init__(self, jobs: Sequence[Job], clock: Callable[[], float] = time.monotonic) -> None:
        self.jobs, self._clock = list(jobs), clock
        start = clock()
        self._next = {job.name: start + job.first for job in self.jobs if not job.own_thread}

    def run_due(self) -> None:
        """Run, in table order, each loop job that has fallen due; its next time is set before it runs,
        so a job that raises (the database is away) waits its period like one that succeeded."""
        for job in self.jobs:
            if not job.own_thread and self._clock() >= self._next[job.name]:
                self._next[job.name] = self._clock() + job.every
                job.run(utcnow())

    @contextmanager
    def threads(self) -> Iterator[None]:
        """Run each own-thread job every ``every`` seconds until the block ends (then wait for them)."""
        done = threading.Event()

        def repeat(job: Job) -> None:
            while not done.wait(job.every):
                job.run(utcnow())

        started = [threading.Thread(target=repeat, args=(job,), name=job.name, daemon=True)
                   for job in self.jobs if job.own_thread]
        for thread in started:
            thread.start()
        try:
            yield
        finally:
            done.set()
            for thread in started:
                thread.join()


def renew_leases(db: Database, worker: str, lease: timedelta, now: datetime) -> None:
    """Lease heartbeat: renew the lease of the keys ``worker`` holds, so a dead worker's keys are free
    within one lease; a database failure is logged (the loop pauses on its own; the next beat tries again)."""
    try:
        with db.session() as session:
            held_keys.extend(session, worker, lease, now)
    except DBAPIError as exc:
        log.warning("worker: lease not renewed (%s)", type(exc).__name__)


def finish_disconnects(db: Database, now: datetime) -> None:
    """Disconnect finishing: a disconnecting account with no work left is disconnected."""
    with db.session() as session:
        connection.finish_disconnects(session)


def start_full_passes(db: Database, every: timedelta, now: datetime) -> None:
    """Full-pass scheduling: queue the users whose inputs may have changed by themselves, in each
    connected account whose last full pass began ``every`` ago (:func:`bridge.accounts.schedule.start_due`)."""
    with db.session() as session:
        schedule.start_due(session, every, now)


def forget_deliveries(db: Database, now: datetime) -> None:
    """Delivery clean-up: forget hook delivery ids older than a host's retries."""
    with db.session() as session:
        ingest.forget_old_deliveries(session, now)


def forget_request_ids(db: Database, now: datetime) -> None:
    """Request-id clean-up: forget the signed request ids whose timestamps can no longer pass
    (:func:`bridge.accounts.request_ids.forget_expired`)."""
    with db.session() as session:
        request_ids.forget_expired(session, now)


def check_tenants(db: Database, graph: Graph, which: Callable[[Session, datetime], list[str]], now: datetime) -> None:
    """Look again (:func:`bridge.accounts.connection.check_tenant`) at each tenant ``which`` selects: the
    tenant probe (:func:`~bridge.accounts.connection.probes_due`: a suspended tenant resumes when it
    answers, else backs off further) and the domain refresh (:func:`~bridge.accounts.connection.domains_due`:
    a domain added or removed changes who is synced, so everyone is queued)."""
    with db.session() as session:
        due = which(session, now)
    for account_id in due:
        connection.check_tenant(db, graph, account_id, now)


def check_outlook(db: Database, graph: Graph, mailboxes: int, now: datetime) -> outlook_check.Report:
    """Outlook-side check: what users did to their entries in Outlook, in at most ``mailboxes``
    mailboxes, those checked longest ago first (:mod:`bridge.outlook_check.check`); a Graph or
    database failure is logged and the next check tries again."""
    try:
        report = outlook_check.check(db, graph, now, mailboxes)
    except (errors.GraphError, DBAPIError) as exc:
        log.warning("outlook check failed: %s", type(exc).__name__)
        return outlook_check.Report(failed=1)
    if report.deleted or report.moved:
        log.info("outlook check: %d mailboxes, %d entries deleted and %d moved in Outlook",
                 report.mailboxes, report.deleted, report.moved)
    return report

"""Leases renewed on their own timer: a Graph call stalling for longer than the lease does not let a
second worker take a key that is still being worked; several workers share one account's backlog.

Two real workers (threads of this process, each with its own name, as two processes would be) over
the in-memory tenant, whose every answer is held back for 2.5 × the lease. Each worker records when
it starts and ends working each key (the end is taken before its results are settled, while the key
is still held); no two spans of one key may overlap.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from bridge.db import Database
from bridge.graph.memory import Faults
from bridge.queue import dirty_keys
from bridge.sync.run import Result
from bridge.worker.loop import Worker, clock_warning, default_name
from tests.bridge.memory_world import MemoryWorld
from tests.reliability.harness import Background
from tests.reliability.lms import soon

LEASE = timedelta(seconds=1)
USERS = [f"u{n}" for n in range(8)]


class SpanWorker(Worker):
    """Records (user, start, end, worker) of every key it works."""

    spans: list[tuple[str, float, float, str]]
    lock: threading.Lock

    def _work(self, group: list[dirty_keys.Claim]) -> None:
        self._started = getattr(self, "_started", {})
        self._started[id(group)] = time.monotonic()
        super()._work(group)

    def _settle(self, group: list[dirty_keys.Claim], results: dict[str, Result], now: datetime) -> None:
        end = time.monotonic()
        with self.lock:
            self.spans.extend((c.user_id, self._started[id(group)], end, self.name) for c in group)
        super()._settle(group, results, now)


def test_a_stalled_graph_call_keeps_its_keys(database: Database) -> None:
    world = MemoryWorld(database)
    world.mailboxes(*USERS)
    base = datetime.now(UTC)
    world.deliver(*(world.lms.upsert_user(u) for u in USERS),
                  world.lms.upsert_event("e1", title="Induction", organizer=None, zone="Europe/Berlin",
                                         sessions=[("s1", soon(30, base), soon(32, base))]),
                  *(world.lms.enroll("e1", u, "s1") for u in USERS))
    world.connect()
    world.tenant.faults = Faults(stall=2.5 * LEASE.total_seconds())
    spans: list[tuple[str, float, float, str]] = []
    lock = threading.Lock()
    workers = []
    for name in ("first", "second"):
        worker = SpanWorker(database, world.graph, concurrency=2, group_size=2, lease=LEASE, name=name,
                            full_reconcile=timedelta(days=1))
        worker.spans, worker.lock = spans, lock
        workers.append(Background(worker, idle_sleep=0.05))
    with workers[0], workers[1]:
        for round_ in range(3):  # keys marked again while they are worked: claimable over and over
            time.sleep(2.0)
            world.deliver(world.lms.change_event("e1", title=f"Round {round_}"))
        time.sleep(1.0)
    world.calm()
    world.sync()

    by_user: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for user, start, end, name in spans:
        by_user[user].append((start, end, name))
    assert {name for _, _, _, name in spans} == {"first", "second"}, "both workers worked"
    assert max(end - start for _, start, end, _ in spans) > 2 * LEASE.total_seconds(), "no pass outlived a lease"
    for user, worked in by_user.items():
        worked.sort()
        for (_, end, _), (start, _, _) in itertools.pairwise(worked):
            assert start >= end, f"{user} worked by two workers at once: {worked}"
    assert world.problems() == []


def test_a_worker_is_named_by_its_host_and_process_and_fits_its_column(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.gethostname", lambda: "worker-b.eu-west-1.compute.internal")
    host, pid, instance = default_name(object()).split(":")
    assert (host, pid) == ("worker-b.eu-west-1.compute.internal", str(os.getpid())) and instance
    monkeypatch.setattr("socket.gethostname", lambda: "h" * 250)  # a host name may be 253 characters
    assert len(default_name(object())) <= 64


def test_a_machine_whose_clock_is_off_the_databases_is_told(database: Database) -> None:
    offset = database.clock_offset()
    if database.is_postgresql:  # the server is on this machine: one clock, a round trip apart
        assert offset is not None and abs(offset) < 0.5
    else:
        assert offset is None  # SQLite: one machine, one clock
    lease = timedelta(seconds=10)
    assert clock_warning(offset, lease) is None
    assert clock_warning(-1.9, lease) is None
    assert clock_warning(3.42, lease) == (
        "this machine's clock is 3.4 s ahead of the database server's; leases (10 s, renewed every 2 s) "
        "need the machines' clocks within 2 s of each other: keep every machine on NTP")
    assert "2.5 s behind" in (clock_warning(-2.5, lease) or "")

"""Workers on three hosts share one backlog, make each entry once, and take over a killed host's work.

Real hosts as far as the network goes: each is a network namespace of its own (tests/hosts.py) with
its own address and host name, on a segment the test makes and removes. Host ``db`` runs a PostgreSQL
server of the test's own, ``graph`` the emulator (HTTPS, Graph latency 150 ms), ``web``
``outlook-sync serve --no-worker``, ``w1``–``w3`` ``outlook-sync worker``; the test process is the LMS
(signed hooks to ``web``) and the account owner (Connect integration). Each host reaches the others
only over the segment. Needs root (it skips naming what is missing otherwise).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from bridge.queue.dirty_keys import LEASE
from tests import hosts
from tests.fleet import Fleet, fleet

USERS = 480
CONCURRENCY = 2  # requests in flight per worker: small, so the backfill lasts long enough to kill a host
LATENCY_MS = 150


def _until(done: Callable[[], object], seconds: float, what: str) -> float:
    """Seconds until ``done()`` holds; AssertionError naming ``what`` after ``seconds``."""
    start = time.monotonic()
    while not done():
        assert time.monotonic() - start < seconds, f"{what} not within {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - start


def _worker_names(fleet_: Fleet, host: str) -> set[str]:
    """The worker names in a host's JSON log lines."""
    lines = (fleet_.lab.folder / f"{host}.log").read_text().splitlines()
    return {json.loads(line)["worker"] for line in lines if line.startswith("{") and '"worker"' in line}


@pytest.mark.timeout(150)
def test_three_worker_hosts_share_the_backfill_and_take_over_a_killed_host() -> None:
    if reason := hosts.missing():
        pytest.skip(reason)
    with fleet(LATENCY_MS) as running:
        workers = [running.worker(name, CONCURRENCY) for name in ("w1", "w2", "w3")]
        entries = running.load(USERS)
        running.connect()
        assert running.backlog() >= USERS  # (and the organizer, who is no LMS user here)

        # Mid-backfill (a quarter done, w2 holding keys), w2's host dies at once.
        _until(lambda: running.backlog() <= USERS * 3 // 4, 60, "a quarter of the backfill")
        before_kill = running.creates(workers[1])
        holding: list[set[str]] = []
        _until(lambda: holding.append(running.held_by("w2")) or holding[-1], 10, "w2 holding keys")
        held = holding[-1]
        running.lab.kill(running.workers["w2"])
        killed_at = time.monotonic()
        assert held and running.backlog() > 0, "w2 died mid-backfill, holding keys"

        # Its keys are worked by the other hosts once its lease ends (LEASE, renewed every LEASE/5).
        took_over = _until(lambda: not running.held_by("w2", expired_too=True), LEASE.total_seconds() + 20,
                           "the other hosts taking over w2's keys")
        _until(lambda: running.backlog() == 0, 60, "the whole backfill")
        total = time.monotonic() - killed_at
        print(f"\nw2 killed holding {len(held)} keys; none left in its name {took_over:.1f} s later "
              f"(lease {LEASE.total_seconds():.0f} s); backfill done {total:.1f} s after the kill")

        made = running.entries_made()
        assert len(made) == USERS and set(made.values()) == {1}, "each learner has exactly one entry"
        assert sum(made.values()) == entries
        share = {"w1": running.creates(workers[0]), "w2": before_kill, "w3": running.creates(workers[2])}
        print(f"entries created by host: {share}")
        assert all(count > 0 for count in share.values()), f"every host did some of the backfill: {share}"
        assert share["w1"] + share["w3"] + before_kill <= entries, "no entry was made twice"
        for name in ("w1", "w2", "w3"):
            names = _worker_names(running, name)
            assert len(names) == 1 and next(iter(names)).startswith(f"{name}:"), names
            assert "clock is" not in running.lab.log(f"{name}.log"), "one machine's hosts share one clock"


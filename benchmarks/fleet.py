"""B10: a backfill's throughput with 1, 2 and 3 worker hosts, Graph at 200 ms, against Graph's limits.

Each run builds a fleet on test hosts (tests/fleet.py: network namespaces with PostgreSQL, the
emulator, ``outlook-sync serve`` and N hosts each running ``outlook-sync worker``), sends U learners
with one entry each through signed hooks, presses Connect integration and times the backfill from
the moment Connect integration has queued it until every entry exists. Each worker keeps
``CONCURRENCY`` requests in flight (a real host's default is 32): at 200 ms a request the work is
bound by latency, not by this machine's two cores, so what adding a host adds shows.

Printed beside it is Graph's ceiling for any fleet (learn.microsoft.com/graph/throttling-limits,
Outlook service limits): 130,000 requests per 10 s per app across every tenant; 10,000 requests per
10 minutes and 4 at a time per mailbox — divided by the requests one entry took (each item of a
``$batch`` counts as one request against those limits).
Needs root (it prints why when it cannot run).
"""
from __future__ import annotations

import time
from typing import Any

from tests import hosts
from tests.fleet import fleet

LATENCY_MS = 200
CONCURRENCY = 4
USERS = {"small": 120, "full": 1500}
APP_REQUESTS_PER_SECOND = 130_000 / 10  # per app, every tenant together
MAILBOX_REQUESTS_PER_SECOND = 10_000 / 600  # per app and mailbox
NOT_GRAPH = {"identity", "consent", "batch", "graph_auth"}  # tokens, consent, $batch envelopes (items count)


def backfill(worker_hosts: int, users: int) -> dict[str, Any]:
    """One backfill of ``users`` entries by ``worker_hosts`` worker hosts: seconds, entries/s, Graph
    requests per entry (batch items counted one each, Connect integration's own not), the emulator's
    429 answers and its requests by kind (creates, and the rest: look-ups, the Outlook-side check)."""
    with fleet(LATENCY_MS) as running:
        for n in range(worker_hosts):
            running.worker(f"w{n + 1}", CONCURRENCY)
        entries = running.load(users)
        running.connect()  # proves access (a few requests), then queues the backfill
        start = time.perf_counter()
        running.emulator.admin.reset("counters")
        while running.backlog() or sum(running.entries_made().values()) < entries:
            if time.perf_counter() - start > 600:
                raise TimeoutError(f"B10: backfill with {worker_hosts} hosts not done in 600 s")
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        counters = running.emulator.admin.counters()
        made = sum(running.entries_made().values())
    assert made == entries, f"B10: {made} entries made for {entries}"
    graph_requests = sum(count for kind, count in counters["by_kind"].items() if kind not in NOT_GRAPH)
    kinds = {kind: count for kind, count in counters["by_kind"].items() if kind not in NOT_GRAPH}
    return {"seconds": seconds, "per_second": entries / seconds, "requests_per_entry": graph_requests / entries,
            "throttled": counters["throttled"], "kinds": kinds}


def run(size: str, runs: int) -> list[str]:
    """B10's lines: each fleet size's backfill (median of ``runs``), and the fleet's Graph ceiling."""
    reason = hosts.missing()
    if reason:
        return [f"B10 fleet backfill: not run ({reason})"]
    users = USERS[size]
    lines = [f"B10 fleet backfill: {users} entries, Graph latency {LATENCY_MS} ms, {CONCURRENCY} requests in flight "
             "per worker host, one PostgreSQL"]
    first = 0.0
    for count in (1, 2, 3):
        results = sorted((backfill(count, users) for _ in range(runs)), key=lambda r: r["seconds"])
        median = results[len(results) // 2]
        first = first or median["per_second"]
        lines.append(f"  {count} worker host{'s' if count > 1 else ' '}: {median['seconds']:6.1f} s  "
                     f"{median['per_second']:7.1f} entries/s  ×{median['per_second'] / first:.2f}  "
                     f"({median['requests_per_entry']:.2f} Graph requests per entry, 429: {median['throttled']}; "
                     f"by kind: {median['kinds']})")
        per_entry = median["requests_per_entry"] or 1.0
    lines.append(f"  Graph's ceiling for any fleet: {APP_REQUESTS_PER_SECOND:,.0f} requests/s per app → "
                 f"{APP_REQUESTS_PER_SECOND / per_entry:,.0f} entries/s across every tenant; per mailbox "
                 f"{MAILBOX_REQUESTS_PER_SECOND:.1f} requests/s and 4 at a time → "
                 f"{MAILBOX_REQUESTS_PER_SECOND / per_entry:.1f} entries/s into one mailbox")
    return lines

"""B1 (the bridge's first backfill) and B2 (the same workload through a naive sequential sync).

B1: N entries over N/2 users against the emulator with latency L and Graph's limits on; the bound is
max(N·L/C, per-mailbox n·L/4) for the bridge's concurrency C (C requests in flight) — the time C
requests at a time need at latency L. B2 writes each entry with one request at a time, no batching,
after looking the user up, as calendar plugins commonly do (see Moodle's Microsoft 365 plugin); it runs
on a sample of users and its time is scaled to N (it is linear by construction).
"""
from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.common import ACCOUNT, bench_database, median_of, prepare
from bridge.graph.calendar import Write
from bridge.lms import rules
from bridge.sync import reconcile, store
from bridge.worker.loop import Worker
from emulator.testing import running_emulator


def bridge_backfill(users: int, latency_ms: float, concurrency: int, server_url: str | None) -> dict[str, Any]:
    """The backfill on SQLite, or in a scratch database on the PostgreSQL server of ``server_url``."""
    with ExitStack() as stack:
        emulator = stack.enter_context(running_emulator(latency_ms=latency_ms))
        url = stack.enter_context(bench_database(server_url, "bench_backfill"))
        work = prepare(emulator, url, users, concurrency)
        start, cpu = time.perf_counter(), time.process_time()
        Worker(work.database, work.graph, concurrency=concurrency).drain(timeout=3600)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu  # the plugin is this process
        counters = emulator.admin.counters()
        made = sum(len(m["events"]) for m in emulator.admin.mailboxes(work.tenant_id).values())
        work.database.dispose()
        work.graph.close()
    per_mailbox = 2 * latency_ms / 1000 / 4
    bound = max(work.entries * latency_ms / 1000 / concurrency, per_mailbox)
    return {"entries": work.entries, "made": made, "wall_s": wall, "bound_s": bound, "ratio": bound / wall,
            "cpu_ms_per_entry": cpu * 1000 / max(work.entries, 1),
            "http_requests": counters["by_kind"].get("batch", 0) + counters["by_kind"].get("graph", 0),
            "throttled": counters["throttled"]}


def naive_backfill(users: int, latency_ms: float) -> dict[str, Any]:
    """One request at a time: look the user up, then POST each entry; no batching, no concurrency."""
    with tempfile.TemporaryDirectory() as folder, running_emulator(latency_ms=latency_ms) as emulator:
        work = prepare(emulator, f"sqlite:///{Path(folder) / 'b2.sqlite3'}", users, concurrency=1)
        start = time.perf_counter()
        with work.database.session() as session:
            views = store.user_views(session, ACCOUNT, [f"u{n}" for n in range(users)])
        for uid, view in views.items():
            decision = rules.decide(view, None, work_now())
            wanted = reconcile.desired_entries(decision, ACCOUNT, uid, 15)
            assert view.user and view.user.email
            work.graph.directory.find_user(work.tenant_id, view.user.email)
            for desired in wanted.values():
                work.graph.calendar.apply(work.tenant_id, [Write.create(view.user.email, desired.payload, desired.tag)])
        wall = time.perf_counter() - start
        made = sum(len(m["events"]) for m in emulator.admin.mailboxes(work.tenant_id).values())
        work.graph.close()
    return {"entries": work.entries, "made": made, "wall_s": wall}


def work_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def run(size: str, runs: int, database_url: str | None, naive_too: bool = True) -> list[str]:
    """B1 on SQLite (``database_url`` None) or PostgreSQL, and B2 unless ``naive_too`` is False."""
    users = {"small": 250, "full": 5000}[size]
    naive_users = {"small": 25, "full": 200}[size]
    latency, concurrency = 50.0, 32
    results: list[dict[str, Any]] = []
    median, _ = median_of(runs, lambda: _keep(results, bridge_backfill(users, latency, concurrency, database_url)))
    best = min(results, key=lambda r: abs(r["wall_s"] - median))
    database = "PostgreSQL" if database_url else "SQLite"
    lines = [
        f"B1 backfill ({database}): {best['entries']} entries over {users} users, latency {latency:.0f} ms, "
        f"C={concurrency}, median of {runs}: {median:.2f} s (runs: {_list(r['wall_s'] for r in results)});"
        f" bound {best['bound_s']:.2f} s; ratio bound/actual {best['bound_s'] / median:.2f};"
        f" {best['made']} entries in the mailboxes; {best['http_requests']} Graph HTTP requests; "
        f"{best['throttled']} throttled; plugin CPU (user+sys of the worker process) per entry: "
        f"{_list(r['cpu_ms_per_entry'] for r in results)} ms, median "
        f"{statistics.median(r['cpu_ms_per_entry'] for r in results):.2f} ms (goal 0.5 ms)"]
    if not naive_too:
        return lines
    naive = naive_backfill(naive_users, latency)
    naive_scaled = naive["wall_s"] * best["entries"] / naive["entries"]
    return [*lines,
        f"B2 naive sequential sync: {naive['entries']} entries over {naive_users} users in {naive['wall_s']:.2f} s "
        f"({naive['made']} made) → {naive_scaled:.1f} s for {best['entries']} entries; "
        f"speed-up of the bridge {naive_scaled / median:.1f}×",
    ]


def _list(values: Any) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _keep(results: list[dict[str, Any]], result: dict[str, Any]) -> float:
    results.append(result)
    assert result["made"] == result["entries"], f"backfill made {result['made']} of {result['entries']} entries"
    return float(result["wall_s"])

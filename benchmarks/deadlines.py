"""B12: a course's deadlines backfilled, B1-style: 20 assignments and 500 learners (10,000 deadline
entries, each free at its learner's due time) against the emulator with latency L and Graph's limits on;
the bound is B1's, max(N·L/C, per-mailbox n·L/4). Then a wave of extensions (one learner in ten gets two
more days on one assignment): each moves that learner's entry, never a second one."""
from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any

from benchmarks.backfill import _list
from benchmarks.common import ACCOUNT, bench_database, median_of, prepare
from bridge.lms import ingest
from bridge.models import LmsDeadline
from bridge.worker.loop import Worker
from emulator.testing import running_emulator

ASSIGNMENTS = 20


def course_backfill(learners: int, latency_ms: float, concurrency: int, server_url: str | None) -> dict[str, Any]:
    """The course's backfill, then the extension wave, on SQLite or a scratch PostgreSQL database."""
    with ExitStack() as stack:
        emulator = stack.enter_context(running_emulator(latency_ms=latency_ms))
        url = stack.enter_context(bench_database(server_url, "bench_deadlines"))
        work = prepare(emulator, url, learners, concurrency, assignments=ASSIGNMENTS)
        start = time.perf_counter()
        Worker(work.database, work.graph, concurrency=concurrency).drain(timeout=3600)
        wall = time.perf_counter() - start
        extended = list(range(0, learners, 10))
        with work.database.session() as session:
            for n in extended:
                ingest.apply_delivery(session, {"id": f"x{n}", "account": ACCOUNT, "topic": "learner_deadline.upserted",
                                                "data": {"deadline_id": "a0", "user_id": f"u{n}", "done": False,
                                                         "due": _two_days_later(session), "version": 2}})
        start = time.perf_counter()
        Worker(work.database, work.graph, concurrency=concurrency).drain(timeout=3600)
        wave = time.perf_counter() - start
        boxes = emulator.admin.mailboxes(work.tenant_id).values()
        events = [e for m in boxes for e in m["events"]]
        counters = emulator.admin.counters()
        work.database.dispose()
        work.graph.close()
    bound = max(work.entries * latency_ms / 1000 / concurrency, ASSIGNMENTS * latency_ms / 1000 / 4)
    return {"entries": work.entries, "made": len(events), "free": sum(e.get("showAs") == "free" for e in events),
            "wall_s": wall, "bound_s": bound, "extensions": len(extended), "wave_s": wave,
            "http_requests": counters["by_kind"].get("batch", 0) + counters["by_kind"].get("graph", 0),
            "throttled": counters["throttled"]}


def _two_days_later(session: Any) -> datetime:
    """The first assignment's due time, two days later (an extension)."""
    row = session.get(LmsDeadline, (ACCOUNT, "a0"))
    return row.due + timedelta(days=2)


def run(size: str, runs: int, database_url: str | None) -> list[str]:
    """B12 on SQLite (``database_url`` None) or PostgreSQL."""
    learners = {"small": 25, "full": 500}[size]
    latency, concurrency = 50.0, 32
    results: list[dict[str, Any]] = []
    median, _ = median_of(runs, lambda: _keep(results, course_backfill(learners, latency, concurrency, database_url)))
    best = min(results, key=lambda r: abs(r["wall_s"] - median))
    database = "PostgreSQL" if database_url else "SQLite"
    return [f"B12 course deadlines ({database}): {ASSIGNMENTS} assignments × {learners} learners = {best['entries']} "
            f"entries, latency {latency:.0f} ms, C={concurrency}, median of {runs}: {median:.2f} s "
            f"(runs: {_list(r['wall_s'] for r in results)}); bound {best['bound_s']:.2f} s; ratio bound/actual "
            f"{best['bound_s'] / median:.2f}; {best['made']} entries in the mailboxes, {best['free']} shown as free; "
            f"{best['http_requests']} Graph HTTP requests; {best['throttled']} throttled; then {best['extensions']} "
            f"extensions moved in {_list(r['wave_s'] for r in results)} s"]


def _keep(results: list[dict[str, Any]], result: dict[str, Any]) -> float:
    results.append(result)
    assert result["made"] == result["free"] == result["entries"], (
        f"course backfill: {result['made']} entries ({result['free']} free) of {result['entries']}")
    return float(result["wall_s"])

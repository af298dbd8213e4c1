"""B7: the preview before connecting over N users (every one eligible, so every mailbox is checked).

The account's users each have two upcoming sessions; the preview reads the tenant's domains, applies
the rules and checks each mailbox with one read-only request, 16 at a time (as the page runs it), at
the emulator's injected latency. Reported: wall time, Graph requests by method, and writes (none).
"""
from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime

from benchmarks.common import ACCOUNT, bench_database, prepare, timed
from bridge.trust import preview_store
from bridge.trust.preview import PreviewRun
from emulator.testing import running_emulator

CONCURRENCY = 16
LATENCY_MS = 50


def run(size: str, runs: int, server_url: str | None) -> list[str]:
    users = {"small": 300, "full": 10_000}[size]
    lines = []
    with ExitStack() as stack:
        emulator = stack.enter_context(running_emulator(latency_ms=LATENCY_MS))
        url = stack.enter_context(bench_database(server_url, "bench_preview"))
        work = prepare(emulator, url, users, CONCURRENCY)
        for _ in range(runs):
            before = emulator.admin.counters()
            with work.database.session() as session:
                preview_store.start(session, ACCOUNT, "bench", datetime.now(UTC))
            wall = timed(lambda: PreviewRun(work.database, work.graph, ACCOUNT, CONCURRENCY).run())
            after = emulator.admin.counters()
            with work.database.session() as session:
                summary = preview_store.summary(session, ACCOUNT)
            assert summary is not None and summary.done == users
            graph_calls = after["by_kind"].get("calendar", 0) + after["by_kind"].get("directory", 0) - (
                before["by_kind"].get("calendar", 0) + before["by_kind"].get("directory", 0))
            writes = sum(after[k] - before[k] for k in ("creates", "updates", "deletes"))
            lines.append(
                f"B7 preview ({'PostgreSQL' if server_url else 'SQLite'}): {users} users, {summary.entries} entries "
                f"previewed, {graph_calls} Graph requests ({graph_calls / users:.2f} per user), {LATENCY_MS} ms "
                f"latency, {CONCURRENCY} at a time: {wall:.1f} s ({users / wall:.0f} users/s); "
                f"mailbox writes: {writes}")
        work.graph.close()
        work.database.dispose()
    return lines

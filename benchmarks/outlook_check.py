"""B8: the Outlook-side check over N mailboxes (one entry each), at the emulator's injected latency.

The account's N users each get one entry (a backfill, not measured). Then the Outlook-side check
covers every mailbox in checks of at most ``MAILBOXES`` (as the worker's housekeeping runs them),
twice: first the rounds' full listings (``calendarView/delta`` with the window), then, after 1 % of
the users deleted their entry and 1 % moved theirs in Outlook, the incremental checks (the stored
deltaLinks), which find them. Reported per phase: wall time, Graph requests (delta pages and the
look-ups of entries reported removed), ``$batch`` envelopes, and what was found.
"""
from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import Workload, bench_database, prepare, timed
from bridge.outlook_check import check as outlook_check
from bridge.worker.loop import Worker
from emulator.testing import EmulatorHandle, running_emulator

LATENCY_MS = 50
CONCURRENCY = 32


def _cover(work: Workload, users: int) -> outlook_check.Report:
    """Checks of at most MAILBOXES mailboxes until every mailbox was checked once."""
    total = outlook_check.Report()
    while total.mailboxes < users:
        total.add(outlook_check.check(work.database, work.graph, datetime.now(UTC)))
    return total


def _phase(emulator: EmulatorHandle, work: Workload, users: int, name: str, where: str) -> str:
    before = emulator.admin.counters()["by_kind"]
    report = outlook_check.Report()
    wall = timed(lambda: report.add(_cover(work, users)))
    after = emulator.admin.counters()["by_kind"]
    calendar = after.get("calendar", 0) - before.get("calendar", 0)
    envelopes = after.get("batch", 0) - before.get("batch", 0)
    return (f"B8 Outlook-side check ({where}), {name}: {users} mailboxes in checks of {outlook_check.MAILBOXES}, "
            f"{LATENCY_MS} ms latency: {wall:.1f} s ({users / wall:.0f} mailboxes/s), {calendar} Graph requests "
            f"({calendar / users:.2f} per mailbox) in {envelopes} $batch envelopes; found {report.deleted} "
            f"deleted, {report.moved} moved")


def _users_change(emulator: EmulatorHandle, work: Workload, users: int) -> tuple[int, int]:
    """1 % of the users delete their entry in Outlook, 1 % move theirs a day later."""
    step = 100
    deleted = moved = 0
    for n in range(0, users, step):
        address = f"user{n}@bench.example"
        [event] = emulator.admin.events(work.tenant_id, address)
        emulator.admin.delete_event(work.tenant_id, address, event["id"])
        deleted += 1
        other = f"user{n + 1}@bench.example"
        [event] = emulator.admin.events(work.tenant_id, other)
        emulator.admin.edit_event(work.tenant_id, other, event["id"], **_later(event))
        moved += 1
    return deleted, moved


def _later(event: dict[str, Any]) -> dict[str, Any]:
    return {k: {"dateTime": (datetime.fromisoformat(event[k]["dateTime"][:19]) + timedelta(days=1))
                .strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"} for k in ("start", "end")}


def run(size: str, runs: int, server_url: str | None) -> list[str]:
    users = {"small": 300, "full": 10_000}[size]
    lines = []
    for _ in range(runs):
        with ExitStack() as stack:
            emulator = stack.enter_context(running_emulator(latency_ms=LATENCY_MS))
            url = stack.enter_context(bench_database(server_url, "bench_outlook"))
            work = prepare(emulator, url, users, CONCURRENCY, sessions_per_event=1)
            Worker(work.database, work.graph, concurrency=CONCURRENCY).drain(timeout=3600)
            where = "PostgreSQL" if server_url else "SQLite"
            lines.append(_phase(emulator, work, users, "first listing", where))
            deleted, moved = _users_change(emulator, work, users)
            lines.append(_phase(emulator, work, users, f"after {deleted} deletions and {moved} moves", where))
            work.graph.close()
            work.database.dispose()
    return lines

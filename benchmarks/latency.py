"""B4: from a hook to its entry in the mailbox, end to end.

The emulator (50 ms per Graph request) holds a tenant with consent; the plugin is served by
``outlook-sync serve --no-worker`` (gunicorn) and a separate ``outlook-sync worker`` process syncs,
both on a scratch database (PostgreSQL, where the worker is woken by ``LISTEN/NOTIFY``, or a SQLite
file, where it polls every 0.1 s). Once the first backfill is done, each sample sends one
``enrollment.upserted`` and polls the user's calendar in the emulator every 10 ms until it shows the
change. Two changes are sampled: a move to the other session of an event (the made entry updated to
the new session: one write, sent as itself) and a session choice withdrawn or made again (a deletion
or a creation: one write). Each is one emulator latency. Samples are spaced
by a random pause so they fall at every phase of the worker's idle poll.
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select

from benchmarks import ingest
from benchmarks.common import ACCOUNT, DOMAIN, bench_database, prepare
from emulator.client import EmulatorAdmin
from emulator.testing import running_emulator
from plugin.host import HostClient

SIZES = {"small": {"users": 20, "samples": 10}, "full": {"users": 100, "samples": 30}}
LATENCY_MS = 50.0
POLL_S = 0.01
GAP_S = (0.05, 0.6)  # random pause between samples, longer than the worker's idle poll
GOAL_P95_S = 2 * LATENCY_MS / 1000 + 0.030  # twice the emulator latency plus 30 ms
SAMPLE_TIMEOUT_S = 30.0
CHANGES = {  # what a sample changes: how its figures are named
    "move": "enrollment moved to another session: its entry updated to the new session, one write",
    "lone": "a session choice withdrawn or made again: one write, sent as itself",
}


def _backfilled(database_url: str, admin: EmulatorAdmin, tenant: str, entries: int, timeout: float) -> float:
    """Wait until the first backfill made every entry and left no key queued; its duration."""
    from bridge.models import DirtyKey

    engine = create_engine(database_url)
    start = time.perf_counter()
    try:
        while True:
            with engine.connect() as connection:
                queued = connection.execute(select(func.count()).select_from(DirtyKey)).scalar_one()
            made = sum(len(m["events"]) for m in admin.mailboxes(tenant).values())
            if queued == 0 and made >= entries:
                return time.perf_counter() - start
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"backfill not done after {timeout} s: {made}/{entries} entries, {queued} queued")
            time.sleep(0.1)
    finally:
        engine.dispose()


def _quantile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation between the closest ranks (fine for 10 samples)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def run(size: str, runs: int, postgresql_url: str | None) -> list[str]:
    """B4's figures on PostgreSQL at ``postgresql_url``, or (None) on a SQLite file."""
    users, samples = SIZES[size]["users"], SIZES[size]["samples"]
    workers, threads = ingest.DEFAULT_SETTINGS
    rng = random.Random(4)
    per_run: dict[str, list[list[float]]] = {change: [] for change in CHANGES}
    in_graph: dict[str, list[float]] = {change: [] for change in CHANGES}
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as name, \
            running_emulator(latency_ms=LATENCY_MS) as emulator, \
            bench_database(postgresql_url, "bench_latency") as database_url:
        folder = Path(name)
        work = prepare(emulator, database_url, users, concurrency=8)
        work.database.dispose()
        work.graph.close()
        env = ingest.plugin_env(
            database_url, client_id=work.settings.client_id, client_secret=work.settings.client_secret or "",
            authority_url=emulator.base_url, graph_url=emulator.graph_url, ca_bundle=emulator.ca_path)
        port = ingest.free_port()
        events = max(2, users // 50)  # as benchmarks.common.prepare makes them
        with ingest.served(ingest.serve_command(port, workers, threads), env, port, folder / "serve.log") as base, \
                ingest.child_process([sys.executable, "-m", "plugin.cli", "worker"], env, folder / "worker.log"):
            backfill = _backfilled(database_url, emulator.admin, work.tenant_id, work.entries, timeout=120)
            host = HostClient(base, ingest.HOST_SECRET, session=requests.Session())
            # user n is in event n % events at session 0 (version 1): the first half of the users is
            # moved between sessions, the second half withdraws its choice and makes it again
            chosen: dict[int, int | None] = {n: 0 for n in range(users)}
            version = {n: 1 for n in range(users)}
            half = users // 2
            turns = dict.fromkeys(CHANGES, 0)
            for _ in range(runs):
                for change in CHANGES:
                    latencies: list[float] = []
                    for _ in range(samples):
                        n = turns[change] % half + (half if change == "lone" else 0)
                        turns[change] += 1
                        now = chosen[n]
                        session = (1 - now if now is not None else 0) if change == "move" else \
                            (None if now is not None else 0)
                        chosen[n], version[n] = session, version[n] + 1
                        time.sleep(rng.uniform(*GAP_S))
                        took, graph = _sample(host, emulator.admin, work.tenant_id, n % events, n, session,
                                              version[n], folder)
                        latencies.append(took)
                        in_graph[change].append(graph)
                    per_run[change].append(latencies)
            host.session.close()
    database = "PostgreSQL" if postgresql_url else "SQLite"
    return [_line(database, change, per_run[change], workers, threads, users, backfill, samples, runs)
            + f"; Graph's share (the emulator's time on the requests sent): median "
              f"{statistics.median(in_graph[change]) * 1000:.0f} ms" for change in CHANGES]


def _sample(host: HostClient, admin: EmulatorAdmin, tenant_id: str, event: int, n: int, session: int | None,
            version: int, folder: Path) -> tuple[float, float]:
    """Seconds from sending user ``n``'s ``enrollment.upserted`` (``session`` None: no session chosen)
    until the mailbox shows it (the entry of that session there, or no entry of the event left), and
    the seconds of it Graph took (the emulator's durations of the requests the worker sent)."""
    address = f"user{n}@{DOMAIN}"
    since = max((int(r["seq"]) for r in admin.requests_log(limit=1)), default=0)
    start = time.perf_counter()
    answer = host.send("enrollment.upserted", ACCOUNT, {
        "event_id": f"e{event}", "user_id": f"u{n}",
        "session_id": None if session is None else f"e{event}s{session}", "version": version})
    if answer.status_code != 202:
        raise RuntimeError(f"hook answered {answer.status_code}: {answer.text}")
    while True:
        subjects = [str(e.get("subject") or "") for e in admin.events(tenant_id, address)]
        of_event = [s for s in subjects if s.startswith(f"Course {event} ")]
        if (not of_event) if session is None else any(s.endswith(f"Session {session + 1}") for s in of_event):
            took = time.perf_counter() - start
            sent = [r for r in admin.requests_log(since=since)
                    if r["path"].startswith("/v1.0/") and not r["batch_item"]]
            return took, sum(float(r["duration_ms"] or 0.0) for r in sent) / 1000
        if time.perf_counter() - start > SAMPLE_TIMEOUT_S:
            raise TimeoutError(f"{address} in e{event} not at session {session} after {SAMPLE_TIMEOUT_S} s; "
                               f"see {folder}")
        time.sleep(POLL_S)


def _line(database: str, change: str, per_run: list[list[float]], workers: int, threads: int, users: int,
          backfill: float, samples: int, runs: int) -> str:
    """One change's figures: medians over the runs of each run's p50 and p95 (seconds shown in ms)."""
    p50 = statistics.median(_quantile(x, 0.5) for x in per_run)
    p95 = statistics.median(_quantile(x, 0.95) for x in per_run)
    runs_text = "; ".join(f"p50 {_quantile(x, 0.5) * 1000:.0f} / p95 {_quantile(x, 0.95) * 1000:.0f} ms"
                          for x in per_run)
    return (
        f"B4 hook → entry in the mailbox ({database}, emulator latency {LATENCY_MS:.0f} ms, gunicorn "
        f"{workers}×{threads} + 1 worker process, {users} users, first backfill {backfill:.1f} s; "
        f"{CHANGES[change]}, mailbox polled every {POLL_S * 1000:.0f} ms), {samples} samples per run, "
        f"median of {runs}: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (runs: {runs_text}); "
        f"max {max(max(x) for x in per_run) * 1000:.0f} ms; goal p95 < {GOAL_P95_S * 1000:.0f} ms: "
        f"{'met' if p95 < GOAL_P95_S else 'missed'}"
    )

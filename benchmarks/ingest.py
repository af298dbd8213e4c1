"""B3: hook ingest on PostgreSQL behind gunicorn, with several concurrent senders.

``outlook-sync serve --no-worker`` (gunicorn, asgi worker) runs against a scratch PostgreSQL database;
K senders (threads in P separate processes, one keep-alive connection each) post distinct signed
``user.upserted`` / ``enrollment.upserted`` deliveries, alternating. Bodies are serialised and signed
by :mod:`plugin.host` before the clock starts, so the senders spend their CPU on HTTP only; every
connection first sends a few warm-up deliveries (not timed). Figures: hooks/s over the timed window,
p50/p99 of the client-measured latency, and a row count proving every delivery was applied. Then the
same load against :mod:`benchmarks.bare_app` (no signature, no database) under the same gunicorn
settings, and the ratio plugin/bare. On a small machine the load generator and PostgreSQL compete
with the server for the same cores; the output says how many there are.
"""
from __future__ import annotations

import http.client
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, func, select

from benchmarks.common import scratch_database

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "bench"
HOST_SECRET = "h" * 32
EVENTS = 20

# (gunicorn workers, threads per worker); "full" tries each briefly and keeps the fastest with p99 < 50 ms.
CANDIDATES = ((2, 4), (2, 8), (4, 2), (4, 4))
DEFAULT_SETTINGS = (2, 8)  # outlook-sync serve's defaults; "small" and B4 use them
SENDER_PROCESSES, SENDER_THREADS = 2, 4
SIZES = {"small": {"hooks": 2000, "trial": 0}, "full": {"hooks": 16000, "trial": 4000}}
WARMUP_PER_CONNECTION = 10
GOAL_RATE, GOAL_P99_MS, GOAL_RATIO = 800.0, 50.0, 0.4


# ---- served processes (shared with B4) -----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plugin_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of an ``outlook-sync`` process: ``OUTLOOK_SYNC_*`` from keyword arguments."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    values = {"host_secret": HOST_SECRET, "secret_key": "k" * 32, "client_id": "bench-client",
              "client_secret": "bench-secret", "database_url": database_url, **settings}
    env.update({f"OUTLOOK_SYNC_{name.upper()}": value for name, value in values.items()})
    return env


@contextmanager
def child_process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` in its own process group; on exit SIGTERM it (then SIGKILL the group)."""
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def served(command: list[str], env: dict[str, str], port: int, log: Path,
           timeout: float = 30.0) -> Iterator[str]:
    """Start a gunicorn command listening on ``port`` and yield its base URL once /healthz answers."""
    base = f"http://127.0.0.1:{port}"
    with child_process(command, env, log) as process:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[2:4]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{command[2:4]} not healthy after {timeout} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield base


def serve_command(port: int, workers: int, threads: int) -> list[str]:
    """``outlook-sync serve`` on ``port``, its operators' listener on a free port of its own (two runs
    on one machine never meet on the default one)."""
    return [sys.executable, "-m", "plugin.cli", "serve", "--no-worker", "--host", "127.0.0.1",
            "--port", str(port), "--ops-port", str(free_port()), "--workers", str(workers), "--threads", str(threads)]


def bare_command(port: int, workers: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bare_app", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--threads", str(threads)]


# ---- the load generator (runs in separate processes) ---------------------------------------------

@dataclass(frozen=True)
class SenderJob:
    port: int
    prefix: str
    process: int
    threads: int
    per_thread: int
    warmup: int


def _deliveries(job: SenderJob, thread: int, count: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """``count`` signed deliveries: a new user, then that user's enrollment, and so on."""
    from plugin.host import HostClient, dumps

    signer = HostClient("http://unused", HOST_SECRET)
    out = []
    for n in range(count):
        user = f"{job.prefix}{tag}p{job.process}t{thread}u{n // 2}"
        if n % 2 == 0:
            topic, data = "user.upserted", {
                "id": user, "email": f"{user}@bench.example", "name": f"Learner {user}", "active": True,
                "role": "learner", "timezone": "Europe/Berlin", "version": 1}
        else:
            event = f"e{n % EVENTS}"
            topic, data = "enrollment.upserted", {
                "event_id": event, "user_id": user, "session_id": f"{event}s0", "version": 1}
        body = dumps(HostClient.delivery(topic, ACCOUNT, data, str(uuid.uuid4())))
        out.append((body, signer.signed_headers(body)))
    return out


def _post(connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]) -> tuple[int, bool]:
    """POST once over the keep-alive connection; reconnect once if the server had closed it."""
    for attempt in (0, 1):
        try:
            connection.request("POST", "/hooks", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status, attempt == 1
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            connection.close()
            if attempt:
                raise
    raise AssertionError("unreachable")


def _sender(job: SenderJob, barrier: Any, results: Any) -> None:
    """One sender process: ``job.threads`` connections, warm-up, then the timed deliveries."""
    bodies = [(_deliveries(job, t, job.warmup, "w"), _deliveries(job, t, job.per_thread, ""))
              for t in range(job.threads)]
    ready = threading.Barrier(job.threads + 1)
    go = threading.Event()
    latencies = [array("d") for _ in range(job.threads)]
    statuses: list[Counter[int]] = [Counter() for _ in range(job.threads)]
    spans: list[tuple[float, float]] = [(0.0, 0.0)] * job.threads
    reconnects = [0] * job.threads
    failures: list[str] = []

    def send(index: int) -> None:
        warmup, timed = bodies[index]
        connection = http.client.HTTPConnection("127.0.0.1", job.port, timeout=60)
        try:
            for body, headers in warmup:
                _post(connection, body, headers)
            ready.wait()
            go.wait()
            start = time.monotonic()
            for body, headers in timed:
                before = time.monotonic()
                status, again = _post(connection, body, headers)
                latencies[index].append(time.monotonic() - before)
                statuses[index][status] += 1
                reconnects[index] += again
            spans[index] = (start, time.monotonic())
        except Exception as error:  # reported to the parent, which fails the run
            failures.append(f"{type(error).__name__}: {error}")
            if not go.is_set():
                ready.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(job.threads)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
        barrier.wait()
    except threading.BrokenBarrierError:
        barrier.abort()
    go.set()
    for thread in threads:
        thread.join()
    merged: Counter[int] = Counter()
    for counter in statuses:
        merged.update(counter)
    results.put({"latencies": b"".join(a.tobytes() for a in latencies), "statuses": dict(merged),
                 "start": min(s for s, _ in spans), "end": max(e for _, e in spans),
                 "reconnects": sum(reconnects), "failures": failures})


@dataclass
class Load:
    sent: int
    rate: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int] = field(default_factory=dict)
    reconnects: int = 0


def load(port: int, prefix: str, hooks: int, processes: int = SENDER_PROCESSES,
         threads: int = SENDER_THREADS, warmup: int = WARMUP_PER_CONNECTION) -> Load:
    """Send ``hooks`` timed deliveries from ``processes`` × ``threads`` concurrent senders."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes + 1), context.Queue()
    per_thread = max(2, hooks // (processes * threads) // 2 * 2)
    jobs = [SenderJob(port, prefix, p, threads, per_thread, warmup) for p in range(processes)]
    children = [context.Process(target=_sender, args=(job, barrier, results), daemon=True) for job in jobs]
    for child in children:
        child.start()
    try:
        barrier.wait(timeout=120)
        parts = [results.get(timeout=600) for _ in children]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
                child.join()
    failures = [f for part in parts for f in part["failures"]]
    if failures:
        raise RuntimeError(f"senders failed: {failures[:3]}")
    latencies = array("d")
    statuses: Counter[int] = Counter()
    for part in parts:
        latencies.frombytes(part["latencies"])
        statuses.update(part["statuses"])
    window = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    cuts = statistics.quantiles(latencies, n=100)
    return Load(len(latencies), len(latencies) / window, statistics.median(latencies) * 1000, cuts[98] * 1000,
                dict(sorted(statuses.items())), sum(p["reconnects"] for p in parts))


def applied_rows(database_url: str, prefix: str) -> dict[str, int]:
    """Rows the timed deliveries of ``prefix`` made (users, enrollments, dirty keys), and all deliveries."""
    from bridge.models import Delivery, DirtyKey, LmsEnrollment, LmsUser

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            def count(statement: Any) -> int:
                return int(connection.execute(statement).scalar_one())

            like = f"{prefix}p%"  # the timed deliveries' users (warm-up ones are <prefix>wp…)
            return {
                "users": count(select(func.count()).select_from(LmsUser).where(LmsUser.id.like(like))),
                "enrollments": count(select(func.count()).select_from(LmsEnrollment)
                                     .where(LmsEnrollment.user_id.like(like))),
                "dirty_keys": count(select(func.count()).select_from(DirtyKey).where(DirtyKey.user_id.like(like))),
                "deliveries": count(select(func.count()).select_from(Delivery)),
            }
    finally:
        engine.dispose()


# ---- the benchmark -------------------------------------------------------------------------------

def _plugin_loads(database_url: str, workers: int, threads: int, hooks: int, runs: int, folder: Path,
                  tag: str) -> tuple[list[Load], list[str], int]:
    """``runs`` loads against the plugin; returns them, their id prefixes and the deliveries sent."""
    port = free_port()
    loads, prefixes, sent = [], [], 0
    with served(serve_command(port, workers, threads), plugin_env(database_url), port, folder / "serve.log"):
        for number in range(runs):
            prefix = f"{tag}r{number}"
            loads.append(load(port, prefix, hooks))
            prefixes.append(prefix)
            sent += loads[-1].sent + SENDER_PROCESSES * SENDER_THREADS * WARMUP_PER_CONNECTION
    return loads, prefixes, sent


def _bare_loads(workers: int, threads: int, hooks: int, runs: int, folder: Path) -> list[Load]:
    port = free_port()
    with served(bare_command(port, workers, threads), plugin_env("sqlite://"), port, folder / "bare.log"):
        return [load(port, f"bare{number}", hooks) for number in range(runs)]


def _median(loads: list[Load], name: str) -> float:
    return statistics.median(getattr(x, name) for x in loads)


def _describe(loads: list[Load]) -> str:
    rates = ", ".join(f"{x.rate:.0f}" for x in loads)
    statuses: Counter[int] = Counter()
    for x in loads:
        statuses.update(x.statuses)
    return (f"{_median(loads, 'rate'):.0f} hooks/s (runs: {rates}), p50 {_median(loads, 'p50_ms'):.1f} ms, "
            f"p99 {_median(loads, 'p99_ms'):.1f} ms; HTTP statuses {dict(statuses)}")


def run(size: str, runs: int, postgresql_url: str) -> list[str]:
    hooks, trial = SIZES[size]["hooks"], SIZES[size]["trial"]
    senders = SENDER_PROCESSES * SENDER_THREADS
    lines = [f"B3 setting: {os.cpu_count()} CPUs shared by gunicorn, PostgreSQL and the load generator "
             f"({senders} senders = {SENDER_PROCESSES} processes × {SENDER_THREADS} threads, keep-alive "
             f"http.client, bodies signed beforehand); {hooks} timed hooks per run, alternating user.upserted "
             f"/ enrollment.upserted, {WARMUP_PER_CONNECTION} warm-up hooks per connection; 1-min load average "
             f"before: {os.getloadavg()[0]:.2f}"]
    from bridge.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as name, \
            scratch_database(postgresql_url, "bench_ingest") as database_url:
        folder = Path(name)
        engine = create_engine(database_url)
        upgrade(engine)
        engine.dispose()
        chosen, sent = DEFAULT_SETTINGS, 0
        if trial:
            tried: list[tuple[tuple[int, int], Load]] = []
            for number, (workers, threads) in enumerate(CANDIDATES):
                [result], _, count = _plugin_loads(database_url, workers, threads, trial, 1, folder, f"t{number}")
                tried.append(((workers, threads), result))
                sent += count
            fine = [t for t in tried if t[1].p99_ms < GOAL_P99_MS] or tried
            chosen = max(fine, key=lambda t: t[1].rate)[0]
            lines.append("B3 trial of gunicorn settings (" + str(trial) + " hooks each): " + "; ".join(
                f"{w}×{t}: {x.rate:.0f} hooks/s, p99 {x.p99_ms:.1f} ms" for (w, t), x in tried)
                + f" → chose {chosen[0]} workers × {chosen[1]} threads")
        workers, threads = chosen
        plugin, prefixes, count = _plugin_loads(database_url, workers, threads, hooks, runs, folder, "m")
        sent += count
        rows = {"users": 0, "enrollments": 0, "dirty_keys": 0, "deliveries": 0}
        for prefix in prefixes:
            for key, value in applied_rows(database_url, prefix).items():
                rows[key] = value if key == "deliveries" else rows[key] + value
        expected_users = sum(x.sent - x.sent // 2 for x in plugin)  # timed: user first, then enrollment
        expected_enrollments = sum(x.sent // 2 for x in plugin)
        all_applied = all(set(x.statuses) == {202} for x in plugin) and rows["users"] == expected_users \
            and rows["enrollments"] == expected_enrollments and rows["dirty_keys"] == expected_users \
            and rows["deliveries"] == sent
        bare = _bare_loads(workers, threads, hooks, runs, folder)
    rate, p99 = _median(plugin, "rate"), _median(plugin, "p99_ms")
    ratio = rate / _median(bare, "rate")
    met = rate >= GOAL_RATE and p99 < GOAL_P99_MS
    lines += [
        f"B3 hook ingest (PostgreSQL, outlook-sync serve --no-worker, gunicorn asgi {workers} workers × "
        f"{threads} threads), median of {runs}: {_describe(plugin)}; applied: {rows['users']} users + "
        f"{rows['enrollments']} enrollments in the replica and {rows['dirty_keys']} dirty keys for "
        f"{expected_users + expected_enrollments} timed deliveries, {rows['deliveries']} delivery ids for "
        f"{sent} sent in all (warm-up and trials included) → "
        f"{'all applied' if all_applied else 'NOT ALL APPLIED'}; goal ≥ {GOAL_RATE:.0f} hooks/s with p99 < "
        f"{GOAL_P99_MS:.0f} ms: {'met' if met else 'missed'}",
        f"B3 bare Flask POST /hooks (same gunicorn settings), median of {runs}: {_describe(bare)}; "
        f"ratio plugin/bare {ratio:.2f} (goal ≥ {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'missed'})",
    ]
    return lines

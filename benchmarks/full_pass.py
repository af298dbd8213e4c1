"""B5: the periodic full pass over 100,000 mapped entries (nothing changed: no Graph write expected).

The account is seeded straight into the database (50,000 users with two sessions each, and the
entries already made with the payload hashes the rules give), then the full pass selects in SQL the
users whose inputs may have changed by themselves in the last hour (none here) and worker processes
drain the queue, each reporting its drain time and peak memory (max RSS). For comparison it also
times Resynchronise all: every user queued and planned.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from benchmarks.common import bench_database
from bridge.accounts import schedule
from bridge.db import Database
from bridge.lms import rules
from bridge.lms.views import Enrollment, Event, Session, User, UserView
from bridge.migrate import upgrade
from bridge.models import (
    Account,
    Connection,
    DirtyKey,
    Entry,
    LmsEnrollment,
    LmsEvent,
    LmsSession,
    LmsUser,
    UserState,
)
from bridge.sync import reconcile
from emulator.testing import running_emulator

ACCOUNT = "pass"


def seed(database: Database, users: int, tenant_id: str) -> int:
    """Users, events, enrollments, the entries already made and users' states, written in bulk."""
    now = datetime.now(UTC).replace(microsecond=0)
    events = max(2, users // 50)
    built = []
    for e in range(events):
        sessions = tuple(Session(id=f"e{e}s{i}", event_id=f"e{e}", position=i, start=now + timedelta(days=1 + i),
                                 end=now + timedelta(days=1 + i, hours=1)) for i in range(2))
        built.append(Event(id=f"e{e}", title=f"Course {e}", timezone="Europe/Berlin", sessions=sessions))
    rows: dict[Any, list[dict[str, Any]]] = {
        t: [] for t in (LmsUser, LmsEvent, LmsSession, LmsEnrollment, Entry, UserState)}
    for event in built:
        rows[LmsEvent].append({"account_id": ACCOUNT, "id": event.id, "version": 1, "deleted": False,
                               "title": event.title, "timezone": event.timezone, "cancelled": False})
        rows[LmsSession] += [{"account_id": ACCOUNT, "event_id": event.id, "id": s.id, "position": s.position,
                              "start": s.start, "end": s.end} for s in event.sessions]
    for n in range(users):
        address = f"user{n}@pass.example"
        rows[LmsUser].append({"account_id": ACCOUNT, "id": f"u{n}", "version": 1, "deleted": False,
                              "email": address, "name": f"User {n}", "active": True, "role": "learner"})
        mine = [built[n % events], built[(n + 1) % events]]
        enrollments = tuple(Enrollment(event.id, event.sessions[i].id) for i, event in enumerate(mine))
        rows[LmsEnrollment] += [{"account_id": ACCOUNT, "event_id": e.event_id, "user_id": f"u{n}", "version": 1,
                                 "deleted": False, "session_id": e.session_id} for e in enrollments]
        view = UserView(f"u{n}", User(f"u{n}", address, True), {e.id: e for e in mine}, enrollments)
        wanted = reconcile.desired_entries(rules.decide(view, None, now), ACCOUNT, f"u{n}", 15)
        rows[Entry] += [{"account_id": ACCOUNT, "user_id": f"u{n}", "event_id": d.key[0], "session_id": d.key[1],
                         "tenant_id": tenant_id, "mailbox_id": address, "graph_event_id": f"g-{n}-{d.key[1]}",
                         "transaction_id": "t", "tag": d.tag, "state": "active", "payload_hash": d.payload_hash,
                         "material_hash": d.material_hash, "starts_at": d.starts_at, "ends_at": d.ends_at,
                         "updated_at": now} for d in wanted.values()]
        rows[UserState].append({"account_id": ACCOUNT, "user_id": f"u{n}", "state": "synced", "reason": None,
                                "entries": len(wanted), "changed_at": now})
    with database.session() as session:
        session.execute(insert(Account), [{"id": ACCOUNT, "reminder_minutes": 15, "created_at": now}])
        # the domains were read at the last full pass: the worker's domain refresh is not due (it would
        # ask Graph and, changed, queue everyone)
        session.execute(insert(Connection), [{"account_id": ACCOUNT, "state": "connected", "tenant_id": tenant_id,
                                              "failures": 0, "full_reconcile_at": now, "domains_checked_at": now}])
        for table, values in rows.items():
            for start in range(0, len(values), 5000):
                session.execute(insert(table), values[start:start + 5000])
    if database.is_postgresql:
        # the tables' statistics, as autovacuum would have taken them since hooks wrote the rows: the
        # benchmark writes them all at once just before the pass, and the CI's server runs without
        # autovacuum; never analyzed, the planner reads all of the account's rows for each group's reads
        with database.session() as session:
            session.execute(text("ANALYZE"))
    return len(rows[Entry])


def drain(settings_json: str) -> None:
    """In a fresh process: drain the queue, print wall time and peak memory (max RSS) as JSON."""
    from bridge.config import Settings
    from bridge.graph.client import Graph
    from bridge.worker.loop import Worker

    settings = Settings(**json.loads(settings_json))
    database = Database(settings.database_url)
    start = time.perf_counter()
    worked = Worker(database, Graph.from_settings(settings), concurrency=settings.worker_concurrency,
                    group_size=100).drain(timeout=3600)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"groups": worked, "wall_s": wall, "peak_mb": peak_mb}))


def one_pass(database: Database, settings_json: str, processes: int, everyone: bool) -> tuple[float, float]:
    """The periodic full pass (``everyone`` False: the users whose inputs may have changed by
    themselves in the last hour, selected in SQL) or Resynchronise all (every user queued and
    planned), then ``processes`` workers drain; (seconds of the selection plus the longest drain,
    largest max RSS in MB). The workers' start-up (imports) is not counted."""
    start = time.perf_counter()
    with database.session() as session:
        now = datetime.now(UTC)
        if everyone:
            schedule.mark_everyone(session, ACCOUNT)
        else:
            schedule.mark_due(session, ACCOUNT, now - timedelta(hours=1), now)
    selection = time.perf_counter() - start
    workers = [subprocess.Popen([sys.executable, "-m", "benchmarks.full_pass", settings_json],
                                stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    outputs = [w.communicate(timeout=3600)[0] for w in workers]
    if any(w.returncode for w in workers):
        raise RuntimeError("a worker process failed")
    reports = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    with database.session() as session:
        left = session.execute(select(func.count()).select_from(DirtyKey)).scalar_one()
        state = session.execute(select(Connection.state).where(Connection.account_id == ACCOUNT)).scalar_one()
    if left or state != "connected":  # a drain that worked nothing would time nothing
        raise RuntimeError(f"the workers left {left} keys queued and the account {state}")
    return selection + max(r["wall_s"] for r in reports), max(r["peak_mb"] for r in reports)


def run(size: str, runs: int, server_url: str | None) -> list[str]:
    """On SQLite one worker process; on PostgreSQL (``server_url``) two, as two cores allow."""
    import dataclasses
    import statistics
    from contextlib import ExitStack

    from bridge.config import Settings

    users = {"small": 2000, "full": 50_000}[size]
    processes = 2 if server_url else 1
    walls, peaks, everyone = [], [], []
    with ExitStack() as stack:
        emulator = stack.enter_context(running_emulator())
        url = stack.enter_context(bench_database(server_url, "bench_pass"))
        database = Database(url)
        upgrade(database.engine)
        entries = seed(database, users, "tenant")
        settings = Settings(host_secret="h" * 32, secret_key="k" * 32, client_id="c", client_secret="s",
                            database_url=url, authority_url=emulator.base_url, graph_url=emulator.graph_url,
                            ca_bundle=emulator.ca_path, worker_concurrency=2)
        for _ in range(runs):
            wall, peak = one_pass(database, json.dumps(dataclasses.asdict(settings)), processes, everyone=False)
            walls.append(wall)
            peaks.append(peak)
        everyone.append(one_pass(database, json.dumps(dataclasses.asdict(settings)), processes, everyone=True)[0])
        database.dispose()
        writes = emulator.admin.counters()
    changed = writes["creates"] + writes["updates"] + writes["deletes"]
    return [f"B5 full reconcile pass ({'PostgreSQL' if server_url else 'SQLite'}, {processes} worker process"
            f"{'es' if processes > 1 else ''}): {entries} mapped entries over {users} users, median of {runs}: "
            f"{statistics.median(walls):.2f} s (runs: {', '.join(f'{w:.2f}' for w in walls)}), peak memory "
            f"{max(peaks):.0f} MB (max RSS of a worker process); Graph writes: {changed}; goal 1 s; "
            f"for comparison, every user queued and planned (Resynchronise all): {everyone[0]:.2f} s"]


if __name__ == "__main__":
    drain(sys.argv[1])

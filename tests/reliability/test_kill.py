"""A worker process killed with SIGKILL at random points, 50 times, and started again each time, while
the LMS keeps changing and Graph answers slowly (20–50 ms, so kills land mid-request): at the end
every mailbox holds exactly what the oracle says, none missing, none duplicated.

Each worker is a separate process running a real ``bridge.worker.Worker`` against the same database
(``kill_worker.py``); kill times come from a seeded RNG. Runs on SQLite (a file) and PostgreSQL.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bridge.db import Database
from bridge.models import DirtyKey, Entry
from emulator.testing import EmulatorHandle
from tests.integration.world import ACCOUNT, DOMAIN, World
from tests.reliability.lms import Envelope, Lms, compare, mailboxes, oracle, soon, total, verified_domains
from tests.reliability.test_graph_faults import deliver

KILLS = 50
SEED = 424242
LEASE_SECONDS = 3.0
ORGANIZERS = ["o0", "o1"]
LEARNERS = [f"k{n}" for n in range(38)]


def load(lms: Lms, base: datetime) -> list[Envelope]:
    out = [lms.upsert_user(uid, role="instructor") for uid in ORGANIZERS]
    out += [lms.upsert_user(uid) for uid in LEARNERS]
    for e in range(3):
        sessions = [(f"e{e}s{i}", soon(30 + 24 * e + 4 * i, base), soon(32 + 24 * e + 4 * i, base)) for i in range(3)]
        out.append(lms.upsert_event(f"e{e}", title=f"Course {e}", organizer=ORGANIZERS[e % 2],
                                    zone=("Europe/Berlin", "America/Chicago", "Australia/Sydney")[e],
                                    sessions=sessions))
    for n, uid in enumerate(LEARNERS):
        out.append(lms.enroll(f"e{n % 3}", uid, f"e{n % 3}s{n % 4 % 3}" if n % 7 else None))
    return out


def random_changes(lms: Lms, rng: random.Random, count: int) -> list[Envelope]:
    """``count`` LMS changes: moves, new times, renames, unassignments, (de)activations, cancellations."""
    out: list[Envelope] = []
    for _ in range(count):
        kind = rng.choice(["move", "move", "move", "time", "time", "rename", "rename", "unassign", "active",
                           "cancel"])
        eid = rng.choice(sorted(lms.events))
        sids = [s["id"] for s in lms.events[eid]["sessions"]]
        uid = rng.choice(LEARNERS)
        if kind == "move":
            out.append(lms.enroll(eid, uid, rng.choice([*sids, None])))
        elif kind == "time":
            out.append(lms.move_session(eid, rng.choice(sids), timedelta(minutes=rng.choice([-60, -30, 30, 90]))))
        elif kind == "rename":
            out.append(lms.change_event(eid, title=f"Course {eid} v{rng.randrange(1000)}"))
        elif kind == "unassign":
            out.append(lms.unenroll(eid, uid))
        elif kind == "active":
            out.append(lms.change_user(uid, active=rng.random() < 0.8))
        else:
            out.append(lms.change_event(eid, cancelled=rng.random() < 0.3))
    return out


class ForkServer:
    """The parent of the worker processes (see ``kill_worker.py``)."""

    def __init__(self, settings: dict[str, Any], log: Path) -> None:
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.kill_worker", json.dumps(settings), str(LEASE_SECONDS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)

    def spawn(self) -> tuple[int, str]:
        """Start a worker process; returns its pid and worker name once it is about to work."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("spawn\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline().split()
        assert line[:1] == ["ready"], f"worker did not start: {line} (see {self.log.name})"
        return int(line[1]), line[2]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.005)
    raise AssertionError(f"worker {pid} survived SIGKILL")


def test_sigkill_fifty_times(emulator: EmulatorHandle, database: Database, tmp_path: Path,
                             figures: dict[str, Any]) -> None:
    world = World.create(emulator, database, worker_concurrency=2)
    admin = emulator.admin
    admin.create_users(world.tenant_id, [{"userPrincipalName": f"{uid}@{DOMAIN}", "mail": f"{uid}@{DOMAIN}",
                                          "mailbox": "exchange_online"} for uid in ORGANIZERS + LEARNERS])
    admin.set_faults(latency_ms=45, latency_jitter_ms=15, seed=SEED)
    lms = Lms(ACCOUNT, DOMAIN)
    base = datetime.now(UTC)
    deliver(database, load(lms, base))
    world.connect()

    rng = random.Random(SEED)
    server = ForkServer(dataclasses.asdict(world.settings), tmp_path / "workers.log")
    in_flight = held = 0
    unconfirmed: set[str] = set()
    started = time.monotonic()
    try:
        for round_ in range(KILLS):
            if round_:
                deliver(database, random_changes(lms, rng, 12))
            pid, name = server.spawn()
            time.sleep(rng.uniform(0.1, 0.5))
            busy = sum(admin.counters()["in_flight"].values())
            kill(pid)
            in_flight += busy > 0
            with database.session() as session:
                held += bool(session.scalar(select(func.count()).select_from(DirtyKey)
                                            .where(DirtyKey.claimed_by == name)))
                unconfirmed.update(session.scalars(select(Entry.transaction_id).where(Entry.state == "creating")))
    finally:
        server.close()
    killing = time.monotonic() - started
    deliver(database, random_changes(lms, rng, 12))

    restarted = time.monotonic()
    world.sync(timeout=120)  # a worker that is left alone, after the last kill
    convergence = time.monotonic() - restarted
    counters = admin.counters()

    expected = oracle(lms, verified_domains(admin, world.tenant_id), datetime.now(UTC))
    actual = mailboxes(admin, world.tenant_id)
    problems = compare(expected, actual)
    assert not problems, "\n".join(problems)
    with database.session() as session:
        records = dict(session.execute(select(Entry.state, func.count()).group_by(Entry.state)).all())
    assert records == {"active": total(actual)}, f"entry records {records} vs {total(actual)} in Outlook"
    assert in_flight >= 5, f"only {in_flight} of {KILLS} kills landed while Graph requests were in flight"

    figures.update(kills=KILLS, kill_delay_s="0.1-0.5 after start (seed %d)" % SEED,
                   kills_with_graph_requests_in_flight=in_flight, kills_leaving_claimed_keys=held,
                   unconfirmed_creates_left_by_kills=len(unconfirmed), entries=total(actual),
                   graph_requests=counters["requests"], creates=counters["creates"],
                   duplicate_creates_avoided=counters["duplicate_creates_avoided"],
                   kill_phase_s=round(killing, 1), convergence_s_after_last_kill=round(convergence, 1))

"""Two worker processes on one PostgreSQL drain one backlog, never working one key at once."""
from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from bridge.accounts import connection
from bridge.worker.loop import BULK_GROUP_SIZE, GROUPS_PER_CLAIM
from tests.integration.world import ACCOUNT, DOMAIN, World, at

# twice what one worker takes in one claim (GROUPS_PER_CLAIM passes of at most BULK_GROUP_SIZE users):
# a worker that finds the whole backlog in its first claim would leave the other nothing to share,
# and whether it did would depend on the machine's speed
USERS = 2 * GROUPS_PER_CLAIM * BULK_GROUP_SIZE


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_two_processes_share_the_backlog(world: World, tmp_path: Path) -> None:
    world.emulator.admin.set_faults(latency_ms=20, latency_jitter_ms=10, seed=5)
    world.person("org")
    for n in range(USERS):
        world.person(f"u{n}")
    world.event("e1", [(f"s{i}", at(24 + i), at(25 + i)) for i in range(4)])
    for n in range(USERS):
        world.enroll(f"u{n}", "e1", f"s{n % 4}")
    settings = json.dumps(dataclasses.asdict(world.settings))
    log = tmp_path / "work.jsonl"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.integration.worker_process", settings, str(log), "90"])
               for _ in range(2)]
    started = time.monotonic()
    while len(list(tmp_path.glob("work.jsonl.ready.*"))) < 2:  # both workers are up before there is work
        assert time.monotonic() - started < 60, "the worker processes did not start"
        time.sleep(0.05)
    world.connect()
    # keep marking keys again while they run, so the same keys are claimable over and over
    for round_ in range(5):
        time.sleep(0.4)
        world.change_event("e1", title=f"Round {round_}")
    for process in workers:
        assert process.wait(timeout=120) == 0
    world.sync()  # anything marked after both stopped

    intervals: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for line in log.read_text().splitlines():
        name, account, user, start, end = json.loads(line)
        assert account == ACCOUNT
        intervals[user].append((start, end, name))
    names = {name for spans in intervals.values() for _, _, name in spans}
    assert len(names) == 2, "both processes worked"
    for user, spans in intervals.items():
        spans.sort()
        for (_, end, _), (start, _, _) in itertools.pairwise(spans):
            assert start >= end, f"{user} worked twice at once"
    for n in range(USERS):
        assert world.subjects(f"u{n}@{DOMAIN}") == [f"Round 4 — Session {n % 4 + 1}"]
    with world.database.session() as session:
        assert connection.connection(session, ACCOUNT).state == "connected"

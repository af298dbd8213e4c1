"""The profile behind B1's CPU per entry: ``python -m benchmarks.profile [--postgresql URL] [--users N]``.

B1's backfill (N users, two sessions each, one emulated tenant) is prepared as B1 prepares it; then
the worker's groups are claimed and passed one after another in this thread under cProfile (threads
would hide their work from it), against the emulator with no latency, timed by this thread's CPU
clock (a wait for Graph or the database server counts nothing). It prints the CPU per entry of that
run (profiler included, so above B1's figure) and the functions with the most self time, then the
bridge's own functions by cumulative time.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
from contextlib import ExitStack

from benchmarks.common import bench_database, machine_reference_ms, prepare
from bridge.queue import dirty_keys
from bridge.worker.loop import GROUPS_PER_CLAIM, Worker, _groups
from emulator.testing import running_emulator


def profiled_backfill(users: int, database_url: str | None, top: int) -> str:
    """The report of one profiled backfill of ``users`` users (see the module)."""
    with ExitStack() as stack:
        emulator = stack.enter_context(running_emulator(latency_ms=0.0))
        url = stack.enter_context(bench_database(database_url, "bench_profile"))
        work = prepare(emulator, url, users, concurrency=32)
        worker = Worker(work.database, work.graph)
        profile = cProfile.Profile(time.thread_time)  # CPU of this thread: waits on Graph or the server are not counted
        cpu = time.process_time()
        profile.enable()
        while True:
            with work.database.session() as session:
                claims = dirty_keys.claim(session, worker.name, GROUPS_PER_CLAIM * max(worker.group_sizes.values()))
            if not claims:
                break
            for group in _groups(claims, worker.group_size, GROUPS_PER_CLAIM):
                worker._work(group)
        profile.disable()
        cpu = time.process_time() - cpu
        made = sum(len(m["events"]) for m in emulator.admin.mailboxes(work.tenant_id).values())
        work.database.dispose()
        work.graph.close()
    if made != work.entries:
        raise RuntimeError(f"the profiled backfill made {made} of {work.entries} entries")
    out = io.StringIO()
    out.write(f"{'PostgreSQL' if database_url else 'SQLite'}: {made} entries over {users} users, CPU "
              f"{cpu * 1000 / made:.3f} ms per entry under cProfile (load average {os.getloadavg()[0]:.2f}; "
              f"machine reference {machine_reference_ms():.1f} ms)\n")
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(r"bridge/", top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--postgresql", default=None, help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(profiled_backfill(args.users, args.postgresql, args.top))


if __name__ == "__main__":
    main()

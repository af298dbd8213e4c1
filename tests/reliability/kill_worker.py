"""Worker processes to be killed: a small fork server that starts real ``bridge.worker.loop.Worker`` processes.

Usage: ``python -m tests.reliability.kill_worker SETTINGS_JSON``. It imports everything once, then
for every ``spawn`` line on stdin forks a child that builds a fresh Worker (its own database engine,
MSAL application and HTTP pool), prints ``ready <pid> <worker name>`` and works until it is killed.
Forking from a process that has imported but not connected anything saves the ~0.5 s of imports per
restart, so 50 kills stay cheap; each child is still a separate process that dies by SIGKILL with
its connections, transactions and Graph requests wherever they are.
"""
from __future__ import annotations

import json
import os
import signal
import sys

from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.worker.loop import GROUP_SIZE, Worker


def child(settings: Settings) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # a backfill passed in groups of 10 too (not 50): each worker takes little at a time, so the one
    # started after a kill finds keys of its own to hold when it is killed in turn (test_kill's premise)
    worker = Worker(Database(settings.database_url), Graph.from_settings(settings),
                    concurrency=settings.worker_concurrency, bulk_group_size=GROUP_SIZE)
    print(f"ready {os.getpid()} {worker.name}", flush=True)
    worker.run()


def main() -> None:
    settings = Settings(**json.loads(sys.argv[1]))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while sys.stdin.readline().strip() == "spawn":
        if os.fork() == 0:
            try:
                child(settings)
            finally:
                os._exit(0)


if __name__ == "__main__":
    main()

"""Worker processes to be killed: a small fork server that starts real ``bridge.worker.Worker`` processes.

Usage: ``python -m tests.reliability.kill_worker SETTINGS_JSON LEASE_SECONDS``. It imports everything
once, then for every ``spawn`` line on stdin forks a child that builds a fresh Worker (its own
database engine, MSAL application and HTTP pool), prints ``ready <pid>`` and works until it is
killed. Forking from a process that has imported but not connected anything saves the ~0.5 s of
imports per restart, so 50 kills stay cheap; each child is still a separate process that dies by
SIGKILL with its connections, transactions and Graph requests wherever they are.

The lease on claimed keys is shortened to LEASE_SECONDS (the heartbeat runs three times as often) so
the keys a killed worker held come back in seconds rather than the production five minutes.
"""
from __future__ import annotations

import json
import os
import signal
import sys
from datetime import timedelta

import bridge.queue
import bridge.worker
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.worker import Worker


def child(settings: Settings, lease: float) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    bridge.queue.LEASE = timedelta(seconds=lease)
    bridge.worker.HOUSEKEEPING_EVERY = lease / 3
    worker = Worker(Database(settings.database_url), Graph.from_settings(settings),
                    concurrency=settings.worker_concurrency)
    print(f"ready {os.getpid()} {worker.name}", flush=True)
    worker.run(idle_sleep=0.1)


def main() -> None:
    settings = Settings(**json.loads(sys.argv[1]))
    lease = float(sys.argv[2])
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while sys.stdin.readline().strip() == "spawn":
        if os.fork() == 0:
            try:
                child(settings, lease)
            finally:
                os._exit(0)


if __name__ == "__main__":
    main()

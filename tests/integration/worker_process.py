"""A worker process for the multi-worker test: runs a real Worker and logs when it works each key.

Usage: python -m tests.integration.worker_process SETTINGS_JSON LOG_PATH SECONDS
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bridge import queue
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.worker import Worker


class LoggingWorker(Worker):
    """Writes (key, start, end) for every key it works, so overlaps can be checked afterwards."""

    log: Path

    def _work(self, group: list[queue.Claim]) -> None:
        start = time.time()
        super()._work(group)
        end = time.time()
        with self.log.open("a") as out:
            for claim in group:
                out.write(json.dumps([self.name, claim.account_id, claim.user_id, start, end]) + "\n")


def main() -> None:
    settings = Settings(**json.loads(sys.argv[1]))
    worker = LoggingWorker(Database(settings.database_url), Graph.from_settings(settings), concurrency=8)
    worker.log = Path(sys.argv[2])
    deadline = time.monotonic() + float(sys.argv[3])
    idle_since = None
    while time.monotonic() < deadline:
        if worker.drain(timeout=5):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 2:
            break
        time.sleep(0.05)


if __name__ == "__main__":
    main()

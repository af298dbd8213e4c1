"""A worker process for the multi-worker test: runs a real Worker and logs when it works each key.

Usage: python -m tests.integration.worker_process SETTINGS_JSON LOG_PATH SECONDS
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.queue import dirty_keys
from bridge.worker.loop import Worker


class LoggingWorker(Worker):
    """Writes (key, start, end) for every key it works, so overlaps can be checked afterwards.

    The span ends when the results are about to be settled: until that transaction commits the key
    is still held, so the next holder can only start after it.
    """

    log: Path
    starts: dict[int, float]

    def _work(self, group: list[dirty_keys.Claim]) -> None:
        self.starts[id(group)] = time.time()
        super()._work(group)

    def _settle(self, group: list[dirty_keys.Claim], results: dict[str, Any], now: datetime) -> None:
        end = time.time()
        with self.log.open("a") as out:
            for claim in group:
                out.write(json.dumps([self.name, claim.account_id, claim.user_id,
                                      self.starts.pop(id(group), end), end]) + "\n")
        super()._settle(group, results, now)


def main() -> None:
    settings = Settings(**json.loads(sys.argv[1]))
    worker = LoggingWorker(Database(settings.database_url), Graph.from_settings(settings), concurrency=8)
    worker.log = Path(sys.argv[2])
    worker.starts = {}
    Path(f"{sys.argv[2]}.ready.{os.getpid()}").touch()  # the test starts the work once both are up
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

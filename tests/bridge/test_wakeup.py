"""Workers are woken when a change queues work: by PostgreSQL's LISTEN/NOTIFY, by SQLite's
``data_version`` when another connection commits to the file."""
from __future__ import annotations

import threading
import time

from bridge.db import Database
from bridge.lms.ingest import ensure_account
from bridge.queue import dirty_keys, wakeup


def test_a_committed_mark_wakes_the_worker(database: Database) -> None:
    wake = threading.Event()
    with wakeup.listening(database.url, wake) as notified:
        assert notified
        with database.session() as session:
            ensure_account(session, "acme")
        time.sleep(0.2)  # SQLite's watcher sees that commit within 5 ms: forget it
        wake.clear()
        with database.session() as session:
            dirty_keys.mark_dirty(session, "acme", ["u1"])
            assert not wake.wait(0.3)  # not before the change commits
        assert wake.wait(10)  # liveness only: the notification arrives after the commit

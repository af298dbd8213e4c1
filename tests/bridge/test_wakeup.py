"""Workers are woken by PostgreSQL's LISTEN/NOTIFY when a change queues work (SQLite keeps polling)."""
from __future__ import annotations

import threading

from bridge.db import Database
from bridge.lms.ingest import ensure_account
from bridge.queue import dirty_keys, wakeup


def test_a_committed_mark_wakes_listeners_on_postgresql(database: Database) -> None:
    wake = threading.Event()
    with wakeup.listening(database.url, wake) as notified:
        if not notified:
            assert database.url.startswith("sqlite")  # no channel: the worker polls
            return
        with database.session() as session:
            ensure_account(session, "acme")
        wake.clear()
        with database.session() as session:
            dirty_keys.mark_dirty(session, "acme", ["u1"])
            assert not wake.wait(0.3)  # not before the change commits
        assert wake.wait(10)  # liveness only: the notification arrives after the commit

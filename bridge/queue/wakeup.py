"""Waking workers when work is queued. On PostgreSQL a change that marks users dirty sends
``NOTIFY outlook_sync_dirty`` in its own transaction (delivered when it commits), and every worker
listens on a connection of its own, so a hook's change is picked up at once instead of at the next
poll. SQLite has no such channel: its workers keep polling (every 0.1 s).
"""
from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import TextClause, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger("outlook_sync.worker")

CHANNEL = "outlook_sync_dirty"


@functools.cache
def _notify() -> TextClause:
    return text(f"NOTIFY {CHANNEL}")


def notify(session: Session) -> None:
    """Tell listening workers that keys were queued (PostgreSQL; nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_notify())


@contextmanager
def listening(database_url: str, wake: threading.Event) -> Iterator[bool]:
    """While the block runs, set ``wake`` whenever keys are queued; yields whether anyone will (only
    on PostgreSQL). A lost connection is opened again after a second; meanwhile the worker polls."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        yield False
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    while not done.is_set():
                        for _ in connection.notifies(timeout=0.5):
                            wake.set()
            except psycopg.Error as exc:
                log.warning("worker: not listening for queued work (%s); polling meanwhile", type(exc).__name__)
                done.wait(1.0)

    thread = threading.Thread(target=listen, name="queue-listener", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        done.set()
        thread.join(timeout=5)

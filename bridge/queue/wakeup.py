"""Waking workers when work is queued. On PostgreSQL a change that marks users dirty sends
``NOTIFY outlook_sync_dirty`` in its own transaction (delivered when it commits), and every worker
listens on a connection of its own, so a hook's change is picked up at once instead of at the next
poll. SQLite has no such channel, but it counts the commits made to its file: a worker watches
``PRAGMA data_version`` on a connection of its own every 5 ms (a look costs microseconds, where a poll
of the queue costs a claim), and looks for work when another connection committed — a hook's change,
or one of its own passes.
"""
from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import TextClause, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger("outlook_sync.worker")

CHANNEL = "outlook_sync_dirty"
WATCH_EVERY = 0.005  # seconds between two looks at a SQLite file's data_version


@functools.cache
def _notify() -> TextClause:
    return text(f"NOTIFY {CHANNEL}")


def notify(session: Session) -> None:
    """Tell listening workers that keys were queued (PostgreSQL; nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_notify())


@contextmanager
def listening(database_url: str, wake: threading.Event) -> Iterator[bool]:
    """While the block runs, set ``wake`` whenever keys are queued (PostgreSQL), or whenever the
    SQLite file changed; yields whether anyone will (not for a SQLite database in memory). A lost
    PostgreSQL connection is opened again after a second; meanwhile the worker polls."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        with _watching(url.database, wake) as watched:
            yield watched
        return
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

    with _running(listen, "queue-listener", done):
        yield True


@contextmanager
def _watching(path: str | None, wake: threading.Event) -> Iterator[bool]:
    """Set ``wake`` whenever another connection committed to the SQLite file at ``path`` (its
    ``PRAGMA data_version`` moved: sqlite.org/pragma.html#pragma_data_version); yields False (nothing
    watched) for a database in memory."""
    if not path or path == ":memory:":
        yield False
        return
    done = threading.Event()
    connection = sqlite3.connect(path, check_same_thread=False)

    def version() -> int:
        return int(connection.execute("PRAGMA data_version").fetchone()[0])

    def watch() -> None:
        seen = version()
        while not done.wait(WATCH_EVERY):
            now = version()
            if now != seen:
                seen = now
                wake.set()

    try:
        with _running(watch, "queue-watcher", done):
            yield True
    finally:
        connection.close()


@contextmanager
def _running(target: Callable[[], None], name: str, done: threading.Event) -> Iterator[None]:
    """Run ``target`` on a daemon thread for the block; then set ``done`` and wait for it (5 s at most)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)

"""Engine and transactions for SQLite (embedded default) and PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bridge.config import sqlite_folder


class DatabaseUnreachable(RuntimeError):
    """The database cannot be opened; the message says why in one line and never holds a password."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine (SQLite writers wait instead of failing).

    Raises DatabaseUnreachable when a SQLite file's folder does not exist: no folder is made.
    """
    if url.startswith("sqlite"):
        folder = sqlite_folder(url)
        if folder is not None and not folder.is_dir():
            raise DatabaseUnreachable(f"the folder {folder} of the SQLite file does not exist; create it first")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg prepares repeated statements; PostgreSQL's generic plan for "user_id IN (…100 ids…)" is a
    # sequential scan, 100× slower than the index plan it picks when it sees the values.
    options.setdefault("connect_args", {"options": "-c plan_cache_mode=force_custom_plan", "connect_timeout": 10})
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, **options)


class Database:
    """One engine and a session factory; :meth:`session` is one transaction."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session that commits when the block ends and rolls back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def check(self) -> None:
        """Open one connection; raise DatabaseUnreachable with the driver's first line of why not."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError as error:
            reason = str(error.orig or error).strip().splitlines()[0]
            shown = make_url(self.url).render_as_string(hide_password=True)
            raise DatabaseUnreachable(f"cannot open {shown}: {reason}") from None

    def dispose(self) -> None:
        self.engine.dispose()

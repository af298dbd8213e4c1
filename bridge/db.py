"""Engine and transactions for SQLite (embedded default) and PostgreSQL, and the one
``INSERT … ON CONFLICT`` both dialects share (:class:`Upsert`)."""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, Executable, Select, String, Table, any_, bindparam, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
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
    # a worker's 32 threads often hold more than 10 at once: 20 kept open (an overflow connection is
    # closed when given back, and opening one costs the client more CPU than a pass's statements)
    options.setdefault("pool_size", 20)
    options.setdefault("max_overflow", 10)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _checked_in)  # a new connection was just proven
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


IDLE_PING = 5.0  # seconds: a pooled connection idle longer is pinged before it is used


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a pooled connection that was idle over :data:`IDLE_PING` seconds before handing it out; a
    dead one is replaced (``DisconnectionError``: the pool opens a fresh connection, SQLAlchemy's
    "pessimistic disconnect handling" with a custom checkout event). A connection in steady use is
    not pinged — SQLAlchemy's ``pool_pre_ping`` would cost every transaction one more round trip — and
    if the server went away meanwhile, the statement's disconnect error invalidates the pool's older
    connections and the caller's transaction fails as any other (hooks answer 503, passes retry)."""
    if time.monotonic() - record.info.get("checked_in", 0.0) <= IDLE_PING:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:  # any failure of the ping: the connection is not to be used
        raise DisconnectionError(f"pooled connection failed its ping: {type(exc).__name__}") from exc


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

    def clock_offset(self) -> float | None:
        """Seconds this machine's clock is ahead of the PostgreSQL server's (negative: behind), from one
        ``SELECT clock_timestamp()`` timed on both sides (uncertain by half its round trip); None on
        SQLite, whose clock is this machine's."""
        if not self.is_postgresql:
            return None
        with self.engine.connect() as connection:
            before = time.time()
            server = connection.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one()
            after = time.time()
        return (before + after) / 2 - float(server)

    def dispose(self) -> None:
        self.engine.dispose()


def among(column: Any, name: str, postgresql: bool) -> Any:
    """``column`` is one of the list ``:name``: on PostgreSQL ``= ANY(:name)`` with the list as one
    array parameter, so the statement's text is the same whatever the list's length (psycopg parses
    and prepares it once); elsewhere ``IN`` with the list expanded. The values are strings (ids, addresses)."""
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(String())))
    return column.in_(bindparam(name, expanding=True))


@dataclass(frozen=True)
class Upsert:
    """An ``INSERT … ON CONFLICT`` for PostgreSQL and SQLite alike, described once (a module's constant);
    :meth:`statement` builds each dialect's statement on first use and keeps it: building a statement
    costs more CPU than running it, and these run on the hook and pass paths.

    - ``table``: a mapped class or a :class:`~sqlalchemy.Table`;
    - ``conflict``: the unique columns whose clash means "already there" (empty: any clash);
    - ``update``: the columns a clash takes from the new row; with none (and no ``also``) a clash does nothing;
    - ``also``: further assignments on a clash, ``(table, excluded) → {column: expression}``
      (``excluded``: the new row), e.g. a counter bumped;
    - ``where``: ``(table, excluded) → condition`` under which a clash updates (else the row stays);
    - ``rows``: ``table → SELECT`` whose columns, labelled with the table's column names, are the rows
      to insert (without it, the parameters the statement is executed with);
    - ``returning``: the columns returned for each row inserted or updated.

    Raises nothing itself; the database raises on a clash with a constraint other than ``conflict``.
    """

    table: Any
    conflict: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    also: Callable[[Table, Any], Mapping[str, Any]] | None = None
    where: Callable[[Table, Any], Any] | None = None
    rows: Callable[[Table], Select[Any]] | None = None
    returning: tuple[str, ...] = ()
    _built: dict[bool, Executable] = field(default_factory=dict, init=False, repr=False, compare=False)

    def statement(self, session: Session) -> Executable:
        """The statement for the session's dialect, built once per dialect."""
        postgresql_ = session.get_bind().dialect.name == "postgresql"
        built = self._built.get(postgresql_)
        if built is None:
            built = self._built[postgresql_] = _build(self, postgresql_)
        return built


def _build(upsert: Upsert, postgresql_: bool) -> Executable:
    table: Table = upsert.table if isinstance(upsert.table, Table) else upsert.table.__table__
    statement = (postgresql.insert if postgresql_ else sqlite.insert)(table)
    if upsert.rows is not None:
        rows = upsert.rows(table)
        statement = statement.from_select([c.name for c in rows.selected_columns], rows)
    new = statement.excluded
    assignments = {**{c: new[c] for c in upsert.update}, **(upsert.also(table, new) if upsert.also else {})}
    target = [table.c[c] for c in upsert.conflict] or None
    done = statement.on_conflict_do_update(
        index_elements=target, set_=assignments, where=upsert.where(table, new) if upsert.where else None,
    ) if assignments else statement.on_conflict_do_nothing(index_elements=target)
    return done.returning(*(table.c[c] for c in upsert.returning)) if upsert.returning else done

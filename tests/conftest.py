"""Shared fixtures: a fresh, migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL runs in a database made for this test session (dropped at the end) and emptied between
tests; ``OUTLOOK_SYNC_TEST_POSTGRESQL`` points elsewhere. When it is unreachable those cases skip
with the reason (the test command requires it in CI).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bridge.config import Settings
from bridge.db import Database
from bridge.migrate import upgrade
from bridge.models import Base
from plugin import create_app

POSTGRESQL_URL = os.environ.get("OUTLOOK_SYNC_TEST_POSTGRESQL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A throw-away PostgreSQL database at the current schema, for this test session."""
    admin = create_engine(POSTGRESQL_URL, isolation_level="AUTOCOMMIT")
    try:
        connection = admin.connect()
    except OperationalError as error:
        admin.dispose()
        if os.environ.get("OUTLOOK_SYNC_REQUIRE_POSTGRESQL"):
            raise
        pytest.skip(f"PostgreSQL unreachable at {make_url(POSTGRESQL_URL).render_as_string()}: {error.orig}")
    name = f"outlook_test_{secrets.token_hex(6)}"
    connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRESQL_URL).set(database=name).render_as_string(hide_password=False)
    migrated = Database(url)
    upgrade(migrated.engine)
    migrated.dispose()
    try:
        yield url
    finally:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.close()
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    database.dispose()
    return path


def empty(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        path.write_bytes(sqlite_template.read_bytes())
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("postgresql_url"))
        empty(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """SQLite only, for tests whose subject is not the database."""
    path = tmp_path / "test.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def app(settings: Settings, database: Database) -> Flask:
    """The plugin's app on the test's database, with the directory's ``settings``."""
    app = create_app(settings, database)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()

"""Bring a database to the current schema with Alembic (``outlook-sync migrate``)."""
from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

SCRIPTS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied; running it again changes nothing."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (for developers changing the schema)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


@functools.cache
def head_revisions() -> frozenset[str]:
    """The revisions a current database is at (read once from the migration scripts)."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at the head revision; otherwise what is wrong, naming the fix.

    Raises SQLAlchemy's ``DBAPIError`` when the database cannot be reached.
    """
    with engine.connect() as connection:
        current = frozenset(MigrationContext.configure(connection).get_current_heads())
    if current == head_revisions():
        return None
    found = ", ".join(sorted(current)) or "no schema"
    return f"database schema is at {found}, expected {', '.join(sorted(head_revisions()))}: run outlook-sync migrate"

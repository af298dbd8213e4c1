"""bridge.db.Upsert on both dialects: one description, the same rows on SQLite and PostgreSQL.

A private table (made and dropped here) so that each option is seen alone: a clash doing nothing,
columns taken from the new row, a further assignment, a condition on the update, rows from a SELECT,
and the columns returned.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select

from bridge.db import Database, Upsert

METADATA = MetaData()
PROBE = Table("upsert_probe", METADATA, Column("k", String(8), primary_key=True), Column("v", Integer),
              Column("n", Integer), Column("note", String(16)))


@pytest.fixture
def probe(database: Database) -> Iterator[Database]:
    METADATA.create_all(database.engine)
    yield database
    METADATA.drop_all(database.engine)


def run(database: Database, upsert: Upsert, rows: list[dict[str, Any]]) -> list[Any]:
    with database.session() as session:
        returned = session.execute(upsert.statement(session), rows)
        return [tuple(r) for r in returned] if upsert.returning else []


def stored(database: Database) -> dict[str, tuple[Any, ...]]:
    with database.session() as session:
        return {k: (v, n, note) for k, v, n, note in session.execute(select(PROBE))}


def bump(table: Table, _new: Any) -> dict[str, Any]:
    return {"n": table.c.n + 1}


def older(table: Table, new: Any) -> Any:
    return table.c.v < new.v


def test_a_clash_does_nothing_without_columns_to_update(probe: Database) -> None:
    upsert = Upsert(PROBE)
    run(probe, upsert, [{"k": "a", "v": 1, "n": 0, "note": "first"}])
    run(probe, upsert, [{"k": "a", "v": 2, "n": 5, "note": "second"}, {"k": "b", "v": 3, "n": 0, "note": "new"}])
    assert stored(probe) == {"a": (1, 0, "first"), "b": (3, 0, "new")}


def test_a_clash_takes_the_listed_columns_and_the_further_assignments(probe: Database) -> None:
    upsert = Upsert(PROBE, conflict=("k",), update=("v",), also=bump)
    run(probe, upsert, [{"k": "a", "v": 1, "n": 0, "note": "first"}])
    run(probe, upsert, [{"k": "a", "v": 2, "n": 9, "note": "second"}])
    assert stored(probe) == {"a": (2, 1, "first")}  # v from the new row, n bumped, note kept


def test_the_condition_decides_whether_a_clash_updates_and_what_is_returned(probe: Database) -> None:
    upsert = Upsert(PROBE, conflict=("k",), update=("v", "note"), where=older, returning=("v",))
    assert run(probe, upsert, [{"k": "a", "v": 5, "n": 0, "note": "v5"}]) == [(5,)]
    assert run(probe, upsert, [{"k": "a", "v": 4, "n": 0, "note": "v4"}]) == []  # older: nothing written
    assert run(probe, upsert, [{"k": "a", "v": 6, "n": 0, "note": "v6"}]) == [(6,)]
    assert stored(probe) == {"a": (6, 0, "v6")}


def test_rows_from_a_select_are_inserted_only_where_it_finds_them(probe: Database) -> None:
    def when_allowed(table: Table) -> Any:
        allowed = bindparam("allowed")
        return select(bindparam("k", type_=String).label("k"), bindparam("v", type_=Integer).label("v")).where(
            allowed == 1)

    upsert = Upsert(PROBE, rows=when_allowed, returning=("k",))
    assert run(probe, upsert, [{"k": "a", "v": 1, "allowed": 1}]) == [("a",)]
    assert run(probe, upsert, [{"k": "b", "v": 1, "allowed": 0}]) == []
    assert run(probe, upsert, [{"k": "a", "v": 2, "allowed": 1}]) == []  # already there: nothing
    assert stored(probe) == {"a": (1, None, None)}


def test_each_dialect_builds_its_statement_once(probe: Database) -> None:
    upsert = Upsert(PROBE, conflict=("k",), update=("v",))
    with probe.session() as session:
        assert upsert.statement(session) is upsert.statement(session)

"""bridge.models.base.UTCDateTime: instants stored as naive UTC, returned aware; on SQLite bound in one
step to the very text SQLAlchemy's SQLite DATETIME stores, so rows written before and after compare."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME

from bridge.models.base import UTCDateTime

INSTANTS = [datetime(2026, 12, 6, 13, 5, 7, 123456, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, 12, tzinfo=ZoneInfo("Europe/Berlin"))]


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_an_instant_is_bound_on_sqlite_as_sqlalchemys_datetime_stores_it(instant: datetime) -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = DATETIME().bind_processor(dialect)
    assert ours is not None and theirs is not None
    assert ours(instant) == theirs(instant.astimezone(UTC).replace(tzinfo=None))


def test_none_is_null_and_a_naive_datetime_is_refused() -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and ours(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        ours(datetime(2026, 1, 1))

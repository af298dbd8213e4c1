"""Fixtures for the LMS-facing app, on the shared ``database`` (SQLite and PostgreSQL, fresh per test)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bridge.config import Settings
from bridge.db import Database
from bridge.models import Base
from plugin.host import HostClient, dumps

HOST_SECRET = "test-host-secret-0123456789"


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(
        host_secret=HOST_SECRET,
        secret_key="test-secret-key-0123456789",
        client_id="test-client-id",
        client_secret="test-client-secret",
        database_url=database.url,
    )


@pytest.fixture
def host() -> HostClient:
    """The host helper, used here to make envelopes and sign bodies (its HTTP session is unused)."""
    return HostClient("http://localhost", HOST_SECRET)


Post = Callable[..., TestResponse]


@pytest.fixture
def post(client: FlaskClient, host: HostClient) -> Post:
    """POST a JSON body (or raw bytes), signed as the host would unless ``headers`` are given."""

    def post(path: str, body: Any, headers: dict[str, str] | None = None) -> TestResponse:
        raw = body if isinstance(body, bytes) else dumps(body)
        return client.post(path, data=raw, headers=host.signed_headers(raw) if headers is None else headers)

    return post


@pytest.fixture
def row_counts(database: Database) -> Callable[[], dict[str, int]]:
    """Rows in every table, to prove that a refused request stored nothing."""

    def count() -> dict[str, int]:
        with database.session() as session:
            return {
                table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
                for table in Base.metadata.sorted_tables
            }

    return count


SAMPLES: dict[str, dict[str, Any]] = {
    "user.upserted": {
        "id": "u1", "email": "ada@example.com", "name": "Ada Lovelace", "active": True, "role": "learner",
        "timezone": "Europe/London", "version": 1,
    },
    "user.deleted": {"id": "u1", "version": 2},
    "event.upserted": {
        "id": "e1", "title": "Safety training", "description": "<p>Bring boots.</p>", "organizer_id": "u9",
        "url": "https://lms.example.com/events/e1", "location": "Room 4", "online_url": None,
        "timezone": "Europe/Berlin", "cancelled": False, "version": 1,
        "sessions": [
            {"id": "s1", "title": "Day 1", "start": "2030-03-30T09:00:00+02:00",
             "end": "2030-03-30T12:00:00+02:00", "location": None, "online_url": "https://meet.example.com/s1"},
            {"id": "s2", "start": "2030-03-31T07:00:00Z", "end": "2030-03-31T10:00:00Z"},
        ],
    },
    "event.deleted": {"id": "e1", "version": 2},
    "enrollment.upserted": {"event_id": "e1", "user_id": "u1", "session_id": "s1", "version": 1},
    "enrollment.deleted": {"event_id": "e1", "user_id": "u1", "version": 2},
    "deadline.upserted": {"id": "a1", "title": "Essay", "description": "<p>Two pages</p>",
                          "url": "https://lms.example.com/mod/assign/view.php?id=7", "due": "2030-04-01T23:59:00+02:00",
                          "timezone": "Europe/Berlin", "version": 1},
    "deadline.deleted": {"id": "a1", "version": 2},
    "learner_deadline.upserted": {"deadline_id": "a1", "user_id": "u1", "due": "2030-04-03T23:59:00+02:00",
                                  "done": False, "version": 1},
    "learner_deadline.deleted": {"deadline_id": "a1", "user_id": "u1", "version": 2},
}


@pytest.fixture
def sample() -> Callable[..., dict[str, Any]]:
    """A fresh valid ``data`` object of a topic, with ``changes`` applied on top."""

    def make(topic: str, **changes: Any) -> dict[str, Any]:
        data = {key: (list(map(dict, value)) if key == "sessions" else value)
                for key, value in SAMPLES[topic].items()}
        return {**data, **changes}

    return make

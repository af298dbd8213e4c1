"""Applying deliveries: versions, duplicates, any order, and the users each change concerns."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bridge.codes import HookOutcome as Outcome
from bridge.db import Database
from bridge.lms import ingest
from bridge.models import Delivery, DirtyKey, LmsSession
from bridge.sync import store

T = datetime(2026, 9, 1, 9, tzinfo=UTC)
counter = iter(range(10**6))


def deliver(database: Database, topic: str, data: dict[str, Any], delivery_id: str | None = None) -> Outcome:
    with database.session() as session:
        return ingest.apply_delivery(session, {"id": delivery_id or f"d{next(counter)}", "topic": topic,
                                               "account": "acc", "data": data})


def user(uid: str, version: int, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "email": f"{uid}@contoso.com", "name": uid, "active": True, "role": "learner",
            "timezone": None, "version": version, **extra}


def event(version: int, sessions: int = 2, organizer: str = "org", **extra: Any) -> dict[str, Any]:
    return {"id": "e1", "title": "Safety", "description": None, "organizer_id": organizer, "url": None,
            "location": None, "online_url": None, "timezone": "Europe/Berlin", "cancelled": False,
            "version": version, **extra,
            "sessions": [{"id": f"s{i}", "title": None, "start": T + timedelta(days=i),
                          "end": T + timedelta(days=i, hours=2), "location": None, "online_url": None}
                         for i in range(sessions)]}


def dirty(database: Database) -> set[str]:
    with database.session() as session:
        return set(session.scalars(select(DirtyKey.user_id)))


def test_duplicate_delivery_is_acknowledged_not_applied(database: Database) -> None:
    assert deliver(database, "user.upserted", user("u1", 1), "same") is Outcome.APPLIED
    assert deliver(database, "user.upserted", user("u1", 2, name="Changed"), "same") is Outcome.DUPLICATE
    with database.session() as session:
        assert store.user_view(session, "acc", "u1").user.name == "u1"  # type: ignore[union-attr]


def test_stale_version_is_ignored_and_order_does_not_matter(database: Database) -> None:
    assert deliver(database, "user.upserted", user("u1", 3, name="Newest")) is Outcome.APPLIED
    assert deliver(database, "user.upserted", user("u1", 2, name="Older")) is Outcome.STALE
    assert deliver(database, "user.upserted", user("u1", 3, name="Same version")) is Outcome.STALE
    assert deliver(database, "user.deleted", {"id": "u1", "version": 2}) is Outcome.STALE
    with database.session() as session:
        assert store.user_view(session, "acc", "u1").user.name == "Newest"  # type: ignore[union-attr]


def test_a_deletion_wins_over_an_older_upsert_arriving_late(database: Database) -> None:
    assert deliver(database, "user.deleted", {"id": "u1", "version": 5}) is Outcome.APPLIED
    assert deliver(database, "user.upserted", user("u1", 4)) is Outcome.STALE
    with database.session() as session:
        assert store.user_view(session, "acc", "u1").user is None


def test_enrollment_before_its_user_and_event_takes_effect_later(database: Database) -> None:
    deliver(database, "enrollment.upserted", {"event_id": "e1", "user_id": "u1", "session_id": "s1", "version": 1})
    deliver(database, "event.upserted", event(1))
    deliver(database, "user.upserted", user("u1", 1))
    with database.session() as session:
        view = store.user_view(session, "acc", "u1")
    assert view.user is not None and "e1" in view.events and view.enrollments[0].session_id == "s1"


def test_event_change_marks_organizer_and_enrolled_users(database: Database) -> None:
    deliver(database, "event.upserted", event(1, organizer="org"))
    deliver(database, "enrollment.upserted", {"event_id": "e1", "user_id": "u1", "session_id": "s1", "version": 1})
    deliver(database, "enrollment.upserted", {"event_id": "e1", "user_id": "u2", "session_id": None, "version": 1})
    with database.session() as session:
        session.execute(DirtyKey.__table__.delete())
    deliver(database, "event.upserted", event(2, organizer="new-org"))
    assert dirty(database) == {"org", "new-org", "u1", "u2"}


def test_event_upsert_replaces_its_sessions(database: Database) -> None:
    deliver(database, "event.upserted", event(1, sessions=3))
    deliver(database, "event.upserted", event(2, sessions=1))
    with database.session() as session:
        assert [s.id for s in session.scalars(select(LmsSession))] == ["s0"]
    deliver(database, "event.deleted", {"id": "e1", "version": 3})
    with database.session() as session:
        assert list(session.scalars(select(LmsSession))) == []
        assert store.user_view(session, "acc", "org").events == {}


def test_delivery_ids_are_forgotten_after_30_days(database: Database) -> None:
    deliver(database, "user.upserted", user("u1", 1), "old")
    deliver(database, "user.upserted", user("u2", 1), "new")
    with database.session() as session:
        session.get(Delivery, ("acc", "old")).received_at = T - timedelta(days=31)  # type: ignore[union-attr]
    with database.session() as session:
        assert ingest.forget_old_deliveries(session, T) == 1
        assert {d.id for d in session.scalars(select(Delivery))} == {"new"}

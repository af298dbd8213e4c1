"""Schemas of hook deliveries: every topic loads, and every bad field is named by its path."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from plugin.contract.schemas import MAX_BATCH, HookError, load_batch, load_delivery

Sample = Callable[..., dict[str, Any]]


def envelope(topic: str, data: Any, **extra: Any) -> dict[str, Any]:
    return {"id": "d1", "topic": topic, "account": "acme", "data": data, **extra}


def errors(obj: Any) -> dict[str, list[str]]:
    with pytest.raises(HookError) as raised:
        load_delivery(obj)
    return raised.value.fields


@pytest.mark.parametrize(
    "topic",
    ["user.upserted", "user.deleted", "event.upserted", "event.deleted", "enrollment.upserted",
     "enrollment.deleted", "deadline.upserted", "deadline.deleted", "learner_deadline.upserted",
     "learner_deadline.deleted"],
)
def test_each_topic_loads(sample: Sample, topic: str) -> None:
    loaded = load_delivery(envelope(topic, sample(topic)))
    assert loaded["topic"] == topic
    assert loaded["data"]["version"] == sample(topic)["version"]


def test_a_learners_own_due_time_may_be_null_for_the_deadlines_own(sample: Sample) -> None:
    data = load_delivery(envelope("learner_deadline.upserted", sample("learner_deadline.upserted", due=None)))["data"]
    assert data["due"] is None and data["done"] is False
    own = load_delivery(envelope("learner_deadline.upserted", sample("learner_deadline.upserted")))["data"]
    assert own["due"] == datetime(2030, 4, 3, 21, 59, tzinfo=UTC)


def test_event_times_load_as_aware_instants_and_absent_optionals_as_none(sample: Sample) -> None:
    data = load_delivery(envelope("event.upserted", sample("event.upserted")))["data"]
    first, second = data["sessions"]
    assert first["start"] == datetime(2030, 3, 30, 7, 0, tzinfo=UTC)
    assert second["end"] == datetime(2030, 3, 31, 10, 0, tzinfo=UTC)
    assert (second["title"], second["location"], second["online_url"]) == (None, None, None)


def test_absent_optional_fields_load_as_none(sample: Sample) -> None:
    user = sample("user.upserted")
    del user["timezone"]
    assert load_delivery(envelope("user.upserted", user))["data"]["timezone"] is None
    enrollment = sample("enrollment.upserted")
    del enrollment["session_id"]
    assert load_delivery(envelope("enrollment.upserted", enrollment))["data"]["session_id"] is None
    enrollment["session_id"] = None
    assert load_delivery(envelope("enrollment.upserted", enrollment))["data"]["session_id"] is None


def test_unknown_fields_in_data_are_ignored_for_newer_lms_versions(sample: Sample) -> None:
    data = sample("user.upserted", department="Sales")
    assert "department" not in load_delivery(envelope("user.upserted", data))["data"]


def _session(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["sessions"][index].update(changes)


@pytest.mark.parametrize(
    ("topic", "changes", "path"),
    [
        ("user.upserted", {"email": "not-an-address"}, "data.email"),
        ("user.upserted", {"email": None}, "data.email"),
        ("user.upserted", {"role": "superuser"}, "data.role"),
        ("user.upserted", {"timezone": "Mars/Olympus_Mons"}, "data.timezone"),
        ("user.upserted", {"timezone": "../../etc/passwd"}, "data.timezone"),
        ("user.upserted", {"timezone": "+02:00"}, "data.timezone"),
        ("user.upserted", {"active": "yes"}, "data.active"),
        ("user.upserted", {"active": 1}, "data.active"),
        ("user.upserted", {"version": -1}, "data.version"),
        ("user.upserted", {"version": "3"}, "data.version"),
        ("user.upserted", {"version": 3.5}, "data.version"),
        ("user.upserted", {"version": True}, "data.version"),
        ("user.upserted", {"version": 2**63}, "data.version"),
        ("user.upserted", {"id": ""}, "data.id"),
        ("user.upserted", {"id": "x" * 129}, "data.id"),
        ("user.upserted", {"id": 42}, "data.id"),
        ("user.upserted", {"name": "Ada\x00"}, "data.name"),
        ("user.upserted", {"name": "Ada\ud800"}, "data.name"),
        ("user.deleted", {"version": None}, "data.version"),
        ("event.upserted", {"title": ""}, "data.title"),
        ("event.upserted", {"timezone": "CEST"}, "data.timezone"),
        ("event.upserted", {"cancelled": None}, "data.cancelled"),
        ("event.upserted", {"url": "javascript:alert(1)"}, "data.url"),
        ("event.upserted", {"online_url": "ftp://files.example.com/x"}, "data.online_url"),
        ("event.upserted", {"sessions": "s1"}, "data.sessions"),
        ("event.upserted", {"organizer_id": None}, "data.organizer_id"),
        ("enrollment.upserted", {"session_id": ""}, "data.session_id"),
        ("enrollment.deleted", {"user_id": None}, "data.user_id"),
        ("deadline.upserted", {"due": "2030-04-01T23:59:00"}, "data.due"),
        ("deadline.upserted", {"due": None}, "data.due"),
        ("deadline.upserted", {"timezone": None}, "data.timezone"),
        ("deadline.upserted", {"url": "javascript:alert(1)"}, "data.url"),
        ("deadline.upserted", {"title": ""}, "data.title"),
        ("deadline.deleted", {"id": "x" * 129}, "data.id"),
        ("learner_deadline.upserted", {"done": None}, "data.done"),
        ("learner_deadline.upserted", {"done": "yes"}, "data.done"),
        ("learner_deadline.upserted", {"due": "tomorrow"}, "data.due"),
        ("learner_deadline.upserted", {"deadline_id": ""}, "data.deadline_id"),
        ("learner_deadline.deleted", {"user_id": None}, "data.user_id"),
    ],
)
def test_invalid_field_is_named(sample: Sample, topic: str, changes: dict[str, Any], path: str) -> None:
    assert path in errors(envelope(topic, sample(topic, **changes)))


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (_session(0, end="2030-03-30T08:00:00+02:00"), "data.sessions.0.end", "Must be after start."),
        (_session(1, end="2030-03-31T07:00:00Z"), "data.sessions.1.end", "Must be after start."),
        (_session(0, start="2030-03-30T09:00:00"), "data.sessions.0.start", "Must carry a UTC offset"),
        (_session(0, start="2030-03-30"), "data.sessions.0.start", "Not a valid RFC 3339"),
        (_session(0, start="20300330T090000Z"), "data.sessions.0.start", "Not a valid RFC 3339"),
        (_session(0, start="2030-W13-6T09:00:00Z"), "data.sessions.0.start", "Not a valid RFC 3339"),
        (_session(0, start="2030-02-30T09:00:00Z"), "data.sessions.0.start", "Not a valid RFC 3339"),
        (_session(0, start="0001-01-01T00:00:00+14:00"), "data.sessions.0.start", "Must be between"),
        (_session(0, start=1900000000), "data.sessions.0.start", "Not a valid RFC 3339"),
        (_session(1, id="s1"), "data.sessions.1.id", "Duplicate session id"),
        (lambda data: data["sessions"][0].pop("end"), "data.sessions.0.end", "Missing data"),
    ],
)
def test_invalid_session_is_named(
    sample: Sample, change: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    data = sample("event.upserted")
    change(data)
    found = errors(envelope("event.upserted", data))
    assert path in found
    assert any(message in text for text in found[path])


def test_rfc3339_variants_are_accepted(sample: Sample) -> None:
    data = sample("event.upserted")
    data["sessions"][0].update(start="2030-03-30t07:00:00.123456z", end="2030-03-30 08:00:00-00:00")
    session = load_delivery(envelope("event.upserted", data))["data"]["sessions"][0]
    assert session["start"] == datetime(2030, 3, 30, 7, 0, 0, 123456, tzinfo=UTC)


def test_every_error_is_reported_at_once(sample: Sample) -> None:
    data = sample("user.upserted", email="nope", role="root")
    found = errors(envelope("user.upserted", data, extra=True, account=""))
    assert {"data.email", "data.role", "extra", "account"} <= set(found)


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        ([], "$"),
        ("delivery", "$"),
        ({"id": "d1", "topic": "course.created", "account": "acme", "data": {}}, "topic"),
        ({"id": "d1", "topic": ["user.upserted"], "account": "acme", "data": {}}, "topic"),
        ({"id": "d1", "account": "acme", "data": {}}, "topic"),
        ({"id": "d1", "topic": "user.deleted", "account": "acme", "data": "u1"}, "data"),
        ({"id": "d1", "topic": "user.deleted", "account": "acme"}, "data"),
        ({"topic": "user.deleted", "account": "acme", "data": {"id": "u1", "version": 1}}, "id"),
        ({"id": "d1", "topic": "user.deleted", "data": {"id": "u1", "version": 1}}, "account"),
    ],
)
def test_invalid_envelope_is_named(obj: Any, path: str) -> None:
    assert path in errors(obj)


def test_batch_names_the_delivery_and_field(sample: Sample) -> None:
    good = envelope("user.upserted", sample("user.upserted"))
    bad = envelope("event.upserted", sample("event.upserted", title=None))
    with pytest.raises(HookError) as raised:
        load_batch({"deliveries": [good, good, good, bad, "x"]})
    assert raised.value.message == "invalid batch"
    assert set(raised.value.fields) == {"deliveries.3.data.title", "deliveries.4"}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"deliveries": [{}] * (MAX_BATCH + 1)}, "deliveries"),
        ({"deliveries": {}}, "deliveries"),
        ({}, "deliveries"),
        ({"deliveries": [], "extra": 1}, "extra"),
        ([], "$"),
    ],
)
def test_invalid_batch_body(body: Any, path: str) -> None:
    with pytest.raises(HookError) as raised:
        load_batch(body)
    assert path in raised.value.fields


def test_batch_loads_every_delivery(sample: Sample) -> None:
    deliveries = [envelope(topic, sample(topic), id=f"d{n}") for n, topic in enumerate(["user.upserted",
                                                                                           "event.deleted"])]
    assert [d["id"] for d in load_batch({"deliveries": deliveries})] == ["d0", "d1"]
    assert load_batch({"deliveries": []}) == []

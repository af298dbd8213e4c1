"""Marshmallow schemas of hook deliveries: the one source for validation and the OpenAPI document.

Envelopes and the batch body are strict (an unknown field is an error, so a host's typo fails
loudly). Topic ``data`` ignores unknown fields, so a newer LMS can add fields without breaking an
installed plugin. Limits match the storage columns, so nothing valid here can fail in the database.
"""
from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema
from marshmallow.exceptions import SCHEMA

ROLES = ("owner", "admin", "instructor", "learner")
MAX_VERSION = 2**63 - 1  # versions are stored in 64-bit integer columns
MAX_BATCH = 1000
ROOT = "$"  # the error path of the body itself
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)

# NUL and lone surrogates cannot be stored as text by PostgreSQL or encoded by SQLite.
_STORABLE = validate.Regexp(r"^[^\x00\ud800-\udfff]*$", error="Must not contain NUL or unpaired surrogates.")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


class HookError(ValueError):
    """A body failed validation; ``fields`` maps dotted paths (``data.sessions.0.end``) to messages."""

    def __init__(self, fields: dict[str, list[str]], message: str = "invalid delivery") -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


def flatten(messages: Any, path: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Turn marshmallow's nested error messages into ``{"dotted.path": [messages]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            step = () if key == SCHEMA else (str(key),)
            for name, found in flatten(value, path + step).items():
                flat.setdefault(name, []).extend(found)
    elif isinstance(messages, list):
        for item in messages:
            for name, found in flatten(item, path).items():
                flat.setdefault(name, []).extend(found)
    else:
        flat[".".join(path) or ROOT] = [str(messages)]
    return flat


def _string(
    cls: type[fields.String] = fields.String,
    *,
    max_length: int | None,
    min_length: int = 0,
    optional: bool = False,
    validators: Iterable[Callable[[Any], Any]] = (),
    **options: Any,
) -> fields.String:
    """A storable string; ``optional`` ones may be null or absent and then load as None."""
    presence: dict[str, Any] = {"load_default": None, "allow_none": True} if optional else {"required": True}
    checks: list[Callable[[Any], Any]] = [validate.Length(min_length, max_length), _STORABLE, *validators]
    return cls(validate=checks, **presence, **options)


def _id(optional: bool = False) -> fields.String:
    return _string(min_length=1, max_length=128, optional=optional)


def _url() -> fields.String:
    return _string(fields.Url, max_length=2048, optional=True, schemes={"http", "https"}, require_tld=False)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_zone(name: str) -> None:
    """Accept only names in the IANA database (``Europe/Berlin``), never a path or an offset."""
    if name not in _zones():
        raise ValidationError("Not a known IANA time zone (e.g. Europe/Berlin).")


def _zone(optional: bool = False) -> fields.String:
    return _string(min_length=1, max_length=64, optional=optional, validators=[_check_zone])


class StrictBoolean(fields.Boolean):
    """JSON true or false only: ``"no"`` or ``0`` is a host bug, not a boolean."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Version(fields.Integer):
    """The LMS's change counter: a JSON integer (not a boolean, float or string) from 0 up."""

    def __init__(self) -> None:
        super().__init__(strict=True, required=True, validate=validate.Range(0, MAX_VERSION))

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Instant(fields.AwareDateTime):
    """An RFC 3339 date-time with an offset: a bare local time does not name an instant."""

    default_error_messages = {  # noqa: RUF012 - marshmallow merges these per class
        "invalid": "Not a valid RFC 3339 date-time (e.g. 2025-03-30T09:00:00+02:00).",
        "invalid_awareness": "Must carry a UTC offset (e.g. +02:00 or Z).",
        "range": "Must be between 1970 and 9998.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            raise self.make_error("invalid")
        moment = super()._deserialize(value.upper(), attr, data, **kwargs)
        try:
            in_range = EARLIEST <= moment < LATEST
        except OverflowError:
            in_range = False
        if not in_range:
            raise self.make_error("range")
        return moment


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class _Versioned(_Lenient):
    version = Version()


class UserUpserted(_Versioned):
    id = _id()
    email = _string(fields.Email, max_length=320)
    name = _string(max_length=256)
    active = StrictBoolean(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    timezone = _zone(optional=True)


class UserDeleted(_Versioned):
    id = _id()


class EventSession(_Lenient):
    id = _id()
    title = _string(max_length=512, optional=True)
    start = Instant(required=True)
    end = Instant(required=True)
    location = _string(max_length=512, optional=True)
    online_url = _url()

    @validates_schema
    def _ends_after_start(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["end"] <= data["start"]:
            raise ValidationError("Must be after start.", "end")


class EventUpserted(_Versioned):
    id = _id()
    title = _string(min_length=1, max_length=512)
    description = _string(max_length=None, optional=True, metadata={"description": (
        "HTML, as Moodle-style LMSs store it; plain text is valid too (its line breaks are kept). The plugin "
        "sanitizes it with an allow-list before it reaches Outlook: formatting and http(s)/mailto links stay; "
        "scripts, event handlers, styles, frames and other links are removed.")})
    organizer_id = _id()
    url = _url()
    location = _string(max_length=512, optional=True)
    online_url = _url()
    timezone = _zone()
    cancelled = StrictBoolean(required=True)
    sessions = fields.List(fields.Nested(EventSession), required=True)

    @validates_schema
    def _session_ids_unique(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        repeated: dict[int, dict[str, list[str]]] = {}
        for index, session in enumerate(data["sessions"]):
            if session["id"] in seen:
                repeated[index] = {"id": ["Duplicate session id within this event."]}
            seen.add(session["id"])
        if repeated:
            raise ValidationError({"sessions": repeated})


class EventDeleted(_Versioned):
    id = _id()


class EnrollmentUpserted(_Versioned):
    event_id = _id()
    user_id = _id()
    session_id = _id(optional=True)


class EnrollmentDeleted(_Versioned):
    event_id = _id()
    user_id = _id()


class DeadlineUpserted(_Versioned):
    id = _id()
    title = _string(min_length=1, max_length=512)
    description = _string(max_length=None, optional=True, metadata={"description": (
        "HTML, as for events: sanitized with the same allow-list before it reaches Outlook.")})
    url = _url()
    due = Instant(required=True, metadata={"description": "The deadline's own due instant."})
    timezone = _zone()


class DeadlineDeleted(_Versioned):
    id = _id()


class LearnerDeadlineUpserted(_Versioned):
    deadline_id = _id()
    user_id = _id()
    due = Instant(required=True, allow_none=True, metadata={"description": (
        "This user's own due instant (an extension or an override), or null for the deadline's own.")})
    done = StrictBoolean(required=True, metadata={"description": (
        "True when handed in, completed or no longer required.")})


class LearnerDeadlineDeleted(_Versioned):
    deadline_id = _id()
    user_id = _id()


TOPICS: dict[str, type[Schema]] = {
    "user.upserted": UserUpserted,
    "user.deleted": UserDeleted,
    "event.upserted": EventUpserted,
    "event.deleted": EventDeleted,
    "enrollment.upserted": EnrollmentUpserted,
    "enrollment.deleted": EnrollmentDeleted,
    "deadline.upserted": DeadlineUpserted,
    "deadline.deleted": DeadlineDeleted,
    "learner_deadline.upserted": LearnerDeadlineUpserted,
    "learner_deadline.deleted": LearnerDeadlineDeleted,
}


class Envelope(Schema):
    """Any delivery; on its own it only reports envelope errors such as an unknown topic."""

    class Meta:
        unknown = RAISE

    id = _id()
    topic = fields.String(required=True, validate=validate.OneOf(TOPICS))
    account = _id()
    data = fields.Dict(required=True)


def _delivery_schema(topic: str, data: type[Schema]) -> type[Schema]:
    """The envelope of one topic, its ``data`` checked by that topic's schema."""
    return Envelope.from_dict(
        {
            "topic": fields.String(required=True, validate=validate.OneOf([topic])),
            "data": fields.Nested(data, required=True),
        },
        name=f"{data.__name__}Delivery",
    )


DELIVERIES: dict[str, type[Schema]] = {topic: _delivery_schema(topic, data) for topic, data in TOPICS.items()}


# One instance per schema, made once: a schema keeps no state between loads, and making one (with its
# nested schema and copied fields) costs more than validating a delivery.
_INSTANCES: dict[str, Schema] = {topic: schema() for topic, schema in DELIVERIES.items()}
_ENVELOPE = Envelope()


def _load(obj: Any) -> dict[str, Any]:
    topic = obj.get("topic") if isinstance(obj, dict) else None
    schema = _INSTANCES.get(topic, _ENVELOPE) if isinstance(topic, str) else _ENVELOPE
    loaded: dict[str, Any] = schema.load(obj)
    return loaded


class DeliveryField(fields.Field):
    """One delivery of a batch, checked by the schema of its own topic."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        return _load(value)


class Batch(Schema):
    class Meta:
        unknown = RAISE

    deliveries = fields.List(DeliveryField(), required=True, validate=validate.Length(max=MAX_BATCH))

    @pre_load
    def _bounded(self, data: Any, **kwargs: Any) -> Any:
        """Refuse an oversized batch before validating thousands of items one by one."""
        items = data.get("deliveries") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > MAX_BATCH:
            raise ValidationError({"deliveries": [f"At most {MAX_BATCH} deliveries per batch."]})
        return data


def load_delivery(obj: Any) -> dict[str, Any]:
    """Validate one decoded delivery; raise :class:`HookError` naming every bad field."""
    try:
        return _load(obj)
    except ValidationError as error:
        raise HookError(flatten(error.messages)) from None


def load_batch(obj: Any) -> list[dict[str, Any]]:
    """Validate a whole batch body; one bad delivery fails it all (``deliveries.3.data.title``)."""
    try:
        deliveries: list[dict[str, Any]] = Batch().load(obj)["deliveries"]
    except ValidationError as error:
        raise HookError(flatten(error.messages), "invalid batch") from None
    return deliveries

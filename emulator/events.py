"""Calendar entries: what a create/update body may hold, and how Graph shows an event back.

Checked against the CSDL first (names, JSON types, enums, nested types), then the rules the
schema cannot express: accepted zone names, wall-clock date-times, end not before start,
transactionId immutability, extended-property ids. Read-only properties a client sends are
ignored, as Graph ignores them. ``recurrence`` and inline navigation properties other than
extended properties are refused as unsupported by the emulator (the product does not use them).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import secrets
from typing import Any

from .csdl import CsdlIssue, Schema
from .errors import GraphError
from .state import StoredEvent, User, derive_ical_uid
from .zones import DateTimeError, ZoneError, Zones, format_instant, format_local, parse_local, to_utc

EVENT_TYPE = "microsoft.graph.event"
READ_ONLY = frozenset(
    {
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
        "iCalUId",
        "webLink",
        "bodyPreview",
        "hasAttachments",
        "isOrganizer",
        "organizer",
        "responseStatus",
        "type",
        "seriesMasterId",
        "originalStart",
        "onlineMeeting",
        "onlineMeetingUrl",
        "cancelledOccurrences",
        "isCancelled",
        "isDraft",
        "originalStartTimeZone",
        "originalEndTimeZone",
    }
)
EXT_PROPS = "singleValueExtendedProperties"
_EXT_ID = re.compile(
    r"^(?:[A-Za-z]+) (?:\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}"
    r" (?:Name \S.*|Id 0x[0-9A-Fa-f]{1,4})|0x[0-9A-Fa-f]{1,4})$"
)
_ID = re.compile(r"^AAMkA[A-Za-z0-9_-]{40,}=$")
_NULL_TIME = "0001-01-01T00:00:00Z"
MAX_ATTENDEES = 500
# Exchange keeps 255 UTF-16 units of a subject and of a location: longer subjects are cut and end
# in "..." (EWS; the exchangelib maintainer, exchangelib PR #68), longer locations are cut (MS-OXCICAL
# 2.1.3.1.1.20.10, never splitting a surrogate pair). Graph stores them so and answers 201/200.
MAX_TEXT_UNITS = 255


def new_event_id() -> str:
    """Opaque, long, case-sensitive, URL-safe (Graph's ids are base64 of binary entry ids)."""
    return "AAMkA" + base64.urlsafe_b64encode(secrets.token_bytes(105)).decode().rstrip("=") + "AAA="


def is_event_id(value: str) -> bool:
    return bool(_ID.match(value))


def new_change_key() -> str:
    return "DwAAABYAAA" + base64.b64encode(secrets.token_bytes(18)).decode()


def _invalid(message: str = "At least one property failed validation.") -> GraphError:
    return GraphError(400, "ErrorPropertyValidationFailure", message)


class EventRules:
    """Validation, storage and rendering of events for one emulator."""

    def __init__(self, schema: Schema, zones: Zones) -> None:
        self.schema = schema
        self.zones = zones
        self.known = set(schema.properties(EVENT_TYPE))

    # ---- writes ---------------------------------------------------------------------------
    def clean(self, body: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Validate a POST/PATCH body; return (settable props, extended properties)."""
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        declared = body.get("@odata.type")
        if declared is not None and str(declared).lstrip("#") != EVENT_TYPE:
            raise GraphError(
                400,
                "RequestBodyRead",
                f"A resource of type '{declared}' was found, but a resource of type '{EVENT_TYPE}' was expected.",
            )
        try:
            self.schema.check(EVENT_TYPE, body)
        except CsdlIssue as issue:
            raise GraphError(400, issue.code, issue.message) from issue
        props: dict[str, Any] = {}
        ext: list[tuple[str, str]] = []
        for key, value in body.items():
            if "@" in key or key in READ_ONLY:
                continue
            prop = self.schema.properties(EVENT_TYPE)[key]
            if key == EXT_PROPS:
                ext = self._clean_ext(value or [])
            elif prop.navigation:
                raise GraphError(
                    400, "ErrorInvalidRequest", f"The emulator does not support '{key}' in a request body."
                )
            elif key == "recurrence" and value is not None:
                raise GraphError(400, "ErrorInvalidRequest", "The emulator does not support recurring events.")
            else:
                props[key] = value
        if isinstance(props.get("subject"), str) and _units(props["subject"]) > MAX_TEXT_UNITS:
            props["subject"] = _cut(props["subject"], MAX_TEXT_UNITS - 3) + "..."
        location = props.get("location")
        if isinstance(location, dict) and isinstance(location.get("displayName"), str):
            props["location"] = {**location, "displayName": _cut(location["displayName"], MAX_TEXT_UNITS)}
        for side in ("start", "end"):
            if side in props:
                props[side] = self._clean_time(props[side])
        if len(props.get("attendees") or []) > MAX_ATTENDEES:
            raise GraphError(400, "ErrorInvalidRequest", f"An event can have at most {MAX_ATTENDEES} attendees.")
        if "transactionId" in props and props["transactionId"] is not None and not props["transactionId"]:
            raise _invalid()
        return props, ext

    def _clean_ext(self, items: list[Any]) -> list[tuple[str, str]]:
        found = []
        for item in items:
            pid, value = item.get("id"), item.get("value")
            if not isinstance(pid, str) or not _EXT_ID.match(pid):
                raise GraphError(400, "ErrorInvalidProperty", f"The property id '{pid}' is not valid.")
            if value is None:
                raise GraphError(400, "ErrorInvalidExtendedPropertyValue", "Extended property value is missing.")
            found.append((pid, value))
        return found

    def _clean_time(self, value: Any) -> dict[str, Any]:
        if value is None:
            raise _invalid()
        zone = value.get("timeZone")
        try:
            tz = self.zones.tzinfo(zone)
            local = parse_local(value["dateTime"])
        except ZoneError as exc:
            raise GraphError(400, "TimeZoneNotSupportedException", str(exc)) from exc
        except DateTimeError as exc:
            raise GraphError(400, "BadRequest", str(exc)) from exc
        return {"dateTime": value["dateTime"], "timeZone": zone, "_utc": to_utc(local, tz), "_local": local}

    def _check_times(self, props: dict[str, Any], start: dt.datetime, end: dt.datetime) -> None:
        if end < start:
            raise _invalid()
        if props.get("isAllDay"):
            for side in ("start", "end"):
                local = props[side]["_local"]
                if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
                    raise _invalid()
            if end == start:
                raise _invalid()

    def create(self, props: dict[str, Any], ext: list[tuple[str, str]], now: dt.datetime, seq: int) -> StoredEvent:
        if "start" not in props or "end" not in props:
            raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. Start and End are required.")
        start, end = props["start"]["_utc"], props["end"]["_utc"]
        self._check_times(props, start, end)
        event_id = new_event_id()
        event = StoredEvent(event_id, {}, start, end, now, now, new_change_key(), derive_ical_uid(event_id), seq)
        self._store(event, props, ext)
        return event

    def update(self, event: StoredEvent, props: dict[str, Any], ext: list[tuple[str, str]], now: dt.datetime) -> None:
        if "transactionId" in props and props["transactionId"] != event.props.get("transactionId"):
            raise GraphError(400, "ErrorInvalidRequest", "The transactionId of an event cannot be changed.")
        merged = {**event.props, **props}
        start = props["start"]["_utc"] if "start" in props else event.start
        end = props["end"]["_utc"] if "end" in props else event.end
        self._check_times(merged, start, end)
        event.start, event.end = start, end
        self._store(event, props, ext)
        event.modified = now
        event.change_key = new_change_key()

    def _store(self, event: StoredEvent, props: dict[str, Any], ext: list[tuple[str, str]]) -> None:
        event.props.update(props)
        for pid, value in ext:
            key = pid.lower()
            stored_id = event.extended.get(key, (pid, ""))[0]
            event.extended[key] = (stored_id, value)

    # ---- reads ----------------------------------------------------------------------------
    def render(
        self,
        event: StoredEvent,
        owner: User,
        *,
        base: str,
        user_ref: str,
        zone: str | None = None,
        body_text: bool = False,
        select: list[str] | None = None,
        expand_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """The event as Graph returns it (``zone`` from ``Prefer: outlook.timezone``)."""
        p = event.props
        tz_name = zone or "UTC"
        tz = self.zones.tzinfo(tz_name)
        address = owner.mail or owner.user_principal_name
        location = _location(p.get("location"))
        body = _body(p.get("body"), body_text)
        full: dict[str, Any] = {
            "@odata.etag": f'W/"{event.change_key}"',
            "id": event.id,
            "createdDateTime": format_instant(event.created),
            "lastModifiedDateTime": format_instant(event.modified),
            "changeKey": event.change_key,
            "categories": p.get("categories") or [],
            "transactionId": p.get("transactionId"),
            "originalStartTimeZone": p["start"]["timeZone"],
            "originalEndTimeZone": p["end"]["timeZone"],
            "iCalUId": event.ical_uid,
            "reminderMinutesBeforeStart": p.get("reminderMinutesBeforeStart", 15),
            "isReminderOn": p.get("isReminderOn", True),
            "hasAttachments": False,
            "subject": p.get("subject") or "",
            "bodyPreview": _text(p.get("body"))[:255],
            "importance": p.get("importance") or "normal",
            "sensitivity": p.get("sensitivity") or "normal",
            "isAllDay": bool(p.get("isAllDay", False)),
            "isCancelled": False,
            "isOrganizer": True,
            "responseRequested": p.get("responseRequested", True),
            "seriesMasterId": None,
            "showAs": p.get("showAs") or "busy",
            "type": "singleInstance",
            "webLink": "https://outlook.office365.com/owa/?itemid="
            + event.id.replace("=", "%3D")
            + "&exvsurl=1&path=/calendar/item",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": bool(p.get("isOnlineMeeting", False)),
            "onlineMeetingProvider": p.get("onlineMeetingProvider") or "unknown",
            "allowNewTimeProposals": p.get("allowNewTimeProposals", True),
            "isDraft": False,
            "hideAttendees": bool(p.get("hideAttendees", False)),
            "responseStatus": {"response": "organizer", "time": _NULL_TIME},
            "body": body,
            "start": {"dateTime": format_local(event.start, tz), "timeZone": tz_name},
            "end": {"dateTime": format_local(event.end, tz), "timeZone": tz_name},
            "location": location,
            "locations": [location] if location.get("displayName") else [],
            "recurrence": None,
            "attendees": [_attendee(a) for a in p.get("attendees") or []],
            "organizer": {"emailAddress": {"name": owner.display_name, "address": address}},
            "onlineMeeting": None,
        }
        if select is not None:
            full = {k: v for k, v in full.items() if k in ("@odata.etag", "id") or k in select}
        if expand_ids is not None:
            wanted = {i.lower() for i in expand_ids}
            full[f"{EXT_PROPS}@odata.context"] = (
                f"{base}/v1.0/$metadata#users('{user_ref}')/events('{event.id}')/{EXT_PROPS}"
            )
            full[EXT_PROPS] = [
                {"id": pid, "value": value} for key, (pid, value) in event.extended.items() if key in wanted
            ]
        return full

    def storage_view(self, event: StoredEvent, owner: User) -> dict[str, Any]:
        """Admin view: the event in UTC with every extended property."""
        view = self.render(event, owner, base="", user_ref=owner.id)
        view[EXT_PROPS] = [{"id": pid, "value": value} for pid, value in event.extended.values()]
        return view


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut(text: str, limit: int) -> str:
    """The longest head of ``text`` within ``limit`` UTF-16 units, never half a surrogate pair."""
    used = 0
    for index, char in enumerate(text):
        used += _units(char)
        if used > limit:
            return text[:index]
    return text


def _location(value: dict[str, Any] | None) -> dict[str, Any]:
    loc = dict(value or {})
    name = loc.get("displayName") or ""
    out: dict[str, Any] = {"displayName": name, "locationType": loc.get("locationType") or "default"}
    if name:
        out["uniqueId"] = loc.get("uniqueId") or name
        out["uniqueIdType"] = loc.get("uniqueIdType") or "private"
    else:
        out |= {"uniqueIdType": "unknown", "address": {}, "coordinates": {}}
    for key in ("locationUri", "locationEmailAddress", "address", "coordinates"):
        if loc.get(key) is not None:
            out[key] = loc[key]
    return out


def _text(body: dict[str, Any] | None) -> str:
    if not body or not body.get("content"):
        return ""
    content = str(body["content"])
    if (body.get("contentType") or "text") == "html":
        content = re.sub(r"(?is)<(head|style|script)\b.*?</\1>", "", content)
        content = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content)
        content = html.unescape(re.sub(r"<[^>]+>", "", content))
    return re.sub(r"\s+", " ", content).strip()


def _body(body: dict[str, Any] | None, as_text: bool) -> dict[str, Any]:
    """Graph returns bodies as a full HTML document unless text is asked for."""
    if as_text:
        return {"contentType": "text", "content": _text(body)}
    content = str((body or {}).get("content") or "")
    if (body or {}).get("contentType", "text") != "html":
        content = "<div>" + html.escape(content).replace("\n", "<br>\r\n") + "</div>" if content else ""
    if not content.lstrip().lower().startswith("<html"):
        content = (
            (
                '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                f"\r\n</head>\r\n<body>\r\n{content}\r\n</body>\r\n</html>\r\n"
            )
            if content
            else ""
        )
    return {"contentType": "html", "content": content}


def _attendee(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": value.get("type") or "required",
        "status": {"response": "none", "time": _NULL_TIME},
        "emailAddress": value.get("emailAddress") or {},
    }

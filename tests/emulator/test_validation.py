"""Bodies are judged by Microsoft's CSDL: valid ones are accepted (and answered with valid
events), mutated ones are refused with Graph's codes. Property-based, with hypothesis."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.csdl import load_schema
from emulator.zones import Zones, load_iana_zones, load_windows_zones
from tests.emulator.emu_support import World, event_body, graph_error

SCHEMA = load_schema()
ZONES = Zones(load_windows_zones(), load_iana_zones())
ACCEPTED_ZONES = sorted({"UTC", *ZONES.windows, *ZONES.iana})
REFUSED_ZONES = sorted(z for z in zoneinfo.available_timezones() if not ZONES.accepts(z))
TAG = "String {00020329-0000-0000-c000-000000000046} Name lmsKey"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def enum(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([m for m in SCHEMA.enums[f"microsoft.graph.{name}"] if m != "unknownFutureValue"])


@st.composite
def times(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str]]:
    zone = draw(st.sampled_from(ACCEPTED_ZONES))
    start = draw(st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2099, 1, 1)))
    start = start.replace(microsecond=0)
    minutes = draw(st.one_of(st.just(0), st.integers(min_value=120, max_value=60 * 24 * 10)))
    end = start + dt.timedelta(minutes=minutes)
    fmt = "%Y-%m-%dT%H:%M:%S"
    return {"dateTime": start.strftime(fmt), "timeZone": zone}, {"dateTime": end.strftime(fmt), "timeZone": zone}


@st.composite
def valid_bodies(draw: st.DrawFn) -> dict[str, Any]:
    start, end = draw(times())
    body: dict[str, Any] = {"start": start, "end": end}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "subject": st.text(max_size=80),
        "body": st.fixed_dictionaries({"contentType": enum("bodyType"), "content": st.text(max_size=200)}),
        "location": st.fixed_dictionaries(
            {"displayName": st.text(max_size=40)}, optional={"locationUri": st.text(max_size=40)}
        ),
        "showAs": enum("freeBusyStatus"),
        "importance": enum("importance"),
        "sensitivity": enum("sensitivity"),
        "isReminderOn": st.booleans(),
        "reminderMinutesBeforeStart": st.integers(min_value=0, max_value=40320),
        "categories": st.lists(st.text(min_size=1, max_size=20), max_size=3),
        "transactionId": st.text(alphabet="abcdef0123456789-", min_size=8, max_size=40),
        "responseRequested": st.booleans(),
        "allowNewTimeProposals": st.booleans(),
        "hideAttendees": st.booleans(),
        "singleValueExtendedProperties": st.lists(
            st.fixed_dictionaries({"id": st.just(TAG), "value": st.text(max_size=40)}), max_size=1
        ),
    }
    for key in draw(st.sets(st.sampled_from(sorted(optional)))):
        body[key] = draw(optional[key])
    return body


@pytest.fixture
def graph(world: World) -> requests.Session:
    return world.graph()


@SETTINGS
@given(body=valid_bodies())
def test_valid_bodies_are_accepted_and_answers_fit_the_csdl(
    world: World, graph: requests.Session, body: dict[str, Any]
) -> None:
    if "transactionId" in body:  # examples share a mailbox: keep their transaction ids apart
        body["transactionId"] += uuid.uuid4().hex
    response = graph.post(world.url("/users/alice@contoso.com/events"), json=body)
    assert response.status_code == 201, (body, response.text)
    created = response.json()
    SCHEMA.check("microsoft.graph.event", created)
    read = graph.get(
        world.url(f"/users/alice@contoso.com/events/{created['id']}"),
        headers={"Prefer": f'outlook.timezone="{body["start"]["timeZone"]}"'},
    )
    SCHEMA.check("microsoft.graph.event", read.json())
    assert read.json()["start"]["timeZone"] == body["start"]["timeZone"]
    assert created["start"]["timeZone"] == "UTC" and len(created["start"]["dateTime"]) == 27
    patched = graph.patch(world.url(f"/users/alice@contoso.com/events/{created['id']}"), json={"subject": "changed"})
    assert patched.status_code == 200
    SCHEMA.check("microsoft.graph.event", patched.json())


@SETTINGS
@given(
    name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=12).filter(
        lambda n: n not in SCHEMA.properties("microsoft.graph.event")
    )
)
def test_unknown_property_is_refused(world: World, graph: requests.Session, name: str) -> None:
    response = graph.post(world.url("/users/alice@contoso.com/events"), json=event_body(**{name: "x"}))
    assert graph_error(response) == (400, "RequestBodyRead")
    assert (
        f"The property '{name}' does not exist on type 'microsoft.graph.event'" in response.json()["error"]["message"]
    )


WRONG_TYPES = st.one_of(
    st.tuples(st.just("isReminderOn"), st.sampled_from(["yes", 1, [], {}])),
    st.tuples(st.just("reminderMinutesBeforeStart"), st.sampled_from(["15", 1.5, True, 2**40])),
    st.tuples(st.just("subject"), st.sampled_from([5, [], {}, True])),
    st.tuples(st.just("categories"), st.sampled_from(["Blue", 3, [1]])),
    st.tuples(st.just("start"), st.sampled_from(["2026-03-29T09:00:00", 7, []])),
    st.tuples(st.just("body"), st.sampled_from(["text", [{"content": "x"}]])),
)


@SETTINGS
@given(change=WRONG_TYPES)
def test_wrong_json_type_is_refused(world: World, graph: requests.Session, change: tuple[str, Any]) -> None:
    response = graph.post(world.url("/users/alice@contoso.com/events"), json=event_body(**{change[0]: change[1]}))
    assert graph_error(response) == (400, "RequestBodyRead"), change


@SETTINGS
@given(prop=st.sampled_from(["showAs", "importance", "sensitivity"]), value=st.text(min_size=1, max_size=12))
def test_bad_enum_is_refused(world: World, graph: requests.Session, prop: str, value: str) -> None:
    type_name = SCHEMA.properties("microsoft.graph.event")[prop].type
    if all(p.strip() in SCHEMA.enums[type_name] for p in value.split(",")):
        return
    response = graph.post(world.url("/users/alice@contoso.com/events"), json=event_body(**{prop: value}))
    assert graph_error(response) == (400, "RequestBodyRead")


@SETTINGS
@given(zone=st.sampled_from(REFUSED_ZONES), side=st.sampled_from(["start", "end"]))
def test_unsupported_zone_is_refused(world: World, graph: requests.Session, zone: str, side: str) -> None:
    body = event_body()
    body[side] = {**body[side], "timeZone": zone}
    response = graph.post(world.url("/users/alice@contoso.com/events"), json=body)
    assert graph_error(response) == (400, "TimeZoneNotSupportedException")
    assert response.json()["error"]["message"] == (
        f"A valid TimeZone value must be specified. The following TimeZone value is not supported: '{zone}'."
    )


def test_europe_madrid_is_refused_but_romance_standard_time_accepted(world: World, graph: requests.Session) -> None:
    body = event_body()
    body["start"]["timeZone"] = body["end"]["timeZone"] = "Europe/Madrid"
    assert graph_error(graph.post(world.url("/users/alice@contoso.com/events"), json=body)) == (
        400,
        "TimeZoneNotSupportedException",
    )
    assert graph.post(world.url("/users/alice@contoso.com/events"), json=event_body()).status_code == 201


@pytest.mark.parametrize("value", ["2026-02-30T09:00:00", "29/03/2026 09:00", "2026-03-29T09:00:00+02:00", ""])
def test_bad_date_time_is_refused(world: World, graph: requests.Session, value: str) -> None:
    body = event_body()
    body["start"]["dateTime"] = value
    assert graph_error(graph.post(world.url("/users/alice@contoso.com/events"), json=body))[0] == 400


def test_end_before_start_is_refused_equal_is_accepted(world: World, graph: requests.Session) -> None:
    body = event_body()
    body["end"] = {"dateTime": "2026-03-29T08:59:00", "timeZone": "Romance Standard Time"}
    assert graph_error(graph.post(world.url("/users/alice@contoso.com/events"), json=body)) == (
        400,
        "ErrorPropertyValidationFailure",
    )
    body["end"] = dict(body["start"])
    assert graph.post(world.url("/users/alice@contoso.com/events"), json=body).status_code == 201


def test_read_only_properties_are_ignored(world: World, graph: requests.Session) -> None:
    response = graph.post(
        world.url("/users/alice@contoso.com/events"),
        json=event_body(id="AAMkAmine=", changeKey="x", createdDateTime="2001-01-01T00:00:00Z"),
    )
    assert response.status_code == 201
    assert response.json()["id"] != "AAMkAmine=" and response.json()["changeKey"] != "x"


def test_recurrence_is_refused_as_unsupported(world: World, graph: requests.Session) -> None:
    recurrence = {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-03-29"}}
    response = graph.post(world.url("/users/alice@contoso.com/events"), json=event_body(recurrence=recurrence))
    assert graph_error(response) == (400, "ErrorInvalidRequest")

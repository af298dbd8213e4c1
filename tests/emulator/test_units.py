"""In-process checks of the pure parts: CSDL validator, zones, OData filters, options, throttle."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator.config import FaultOptions, LimitOptions, OptionError, options_from_env
from emulator.csdl import CsdlIssue, CsdlMissing, find_csdl, load_schema
from emulator.faults import FaultInjector
from emulator.odata import FilterError, check_fields, evaluate, parse_filter
from emulator.throttle import MailboxThrottle, format_retry_after
from emulator.zones import (
    DateTimeError,
    ZoneError,
    Zones,
    format_local,
    load_iana_zones,
    load_windows_zones,
    parse_local,
    to_utc,
)

SCHEMA = load_schema()
ZONES = Zones(load_windows_zones(), load_iana_zones())


def test_schema_knows_event_and_its_enums() -> None:
    props = SCHEMA.properties("microsoft.graph.event")
    assert {"id", "changeKey", "subject", "start", "transactionId", "singleValueExtendedProperties"} <= set(props)
    assert props["start"].type == "microsoft.graph.dateTimeTimeZone"
    assert "busy" in SCHEMA.enums["microsoft.graph.freeBusyStatus"]


@pytest.mark.parametrize(
    "value, fragment",
    [
        ({"subjet": "x"}, "The property 'subjet' does not exist on type 'microsoft.graph.event'"),
        ({"showAs": "bogus"}, "microsoft.graph.freeBusyStatus"),
        ({"start": {"dateTime": None, "timeZone": "UTC"}}, "does not allow null"),
        ({"location": {"address": {"city": 5}}}, "Edm.String"),
        ({"attendees": {"emailAddress": {}}}, "StartArray"),
        ({"location": {"@odata.type": "#microsoft.graph.user"}}, "could not be resolved"),
    ],
)
def test_validator_refuses(value: dict[str, object], fragment: str) -> None:
    with pytest.raises(CsdlIssue) as err:
        SCHEMA.check("microsoft.graph.event", value)
    assert fragment in err.value.message


def test_find_csdl_names_path_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTLOOK_EMULATOR_CSDL", "/nope.csdl")
    with pytest.raises(CsdlMissing, match=r"/nope\.csdl.*OUTLOOK_EMULATOR_CSDL"):
        find_csdl()


def test_zones() -> None:
    assert ZONES.accepts("Romance Standard Time") and ZONES.accepts("UTC") and ZONES.accepts("Europe/Paris")
    assert not ZONES.accepts("Europe/Madrid") and not ZONES.accepts("romance standard time")
    with pytest.raises(ZoneError, match="'Europe/Amsterdam'"):
        ZONES.tzinfo("Europe/Amsterdam")
    tz = ZONES.tzinfo("Romance Standard Time")
    assert to_utc(parse_local("2026-10-25T02:30:00"), tz) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    assert to_utc(parse_local("2026-03-29T02:30:00"), tz) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert format_local(dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC), tz) == "2026-01-01T09:00:00.0000000"
    assert parse_local("2026-01-01T09:00:00.1234567") == dt.datetime(2026, 1, 1, 9, 0, 0, 123456)
    with pytest.raises(DateTimeError):
        parse_local("2026-01-01 09:00")


def test_filters() -> None:
    tree = parse_filter("proxyAddresses/any(x:x eq 'smtp:a@b.c') or mail eq 'A@B.C'")
    check_fields(tree, {"mail"}, {"proxyaddresses": {""}})
    with pytest.raises(FilterError):
        check_fields(parse_filter("displayName eq 'x'"), {"mail"}, {})
    with pytest.raises(FilterError):
        parse_filter("mail eq")

    def cmp(path: str, left: object, op: str, right: object) -> bool:
        return str(left).lower() == str(right).lower()

    assert evaluate(tree, lambda p: ["SMTP:x@y.z"] if p == "proxyAddresses" else "a@b.c", cmp)
    assert not evaluate(tree, lambda p: ["SMTP:x@y.z"] if p == "proxyAddresses" else "q@b.c", cmp)


def test_options_from_env() -> None:
    options = options_from_env(
        {
            "OUTLOOK_EMULATOR_RATE_503": "0.25",
            "OUTLOOK_EMULATOR_SEED": "9",
            "OUTLOOK_EMULATOR_WINDOW_REQUESTS": "50",
            "OUTLOOK_EMULATOR_FAULT_METHODS": "post,patch",
        }
    )
    assert options.faults.rate_503 == 0.25 and options.faults.seed == 9
    assert options.faults.methods == ["POST", "PATCH"] and options.limits.window_requests == 50
    with pytest.raises(OptionError, match="OUTLOOK_EMULATOR_RATE_429"):
        options_from_env({"OUTLOOK_EMULATOR_RATE_429": "2"})


def test_throttle_window_and_concurrency() -> None:
    throttle = MailboxThrottle(LimitOptions(window_seconds=10, window_requests=2, concurrency=1))
    key = ("app", "tenant", "user")
    assert throttle.enter(key, now=0.0) is None
    refusal = throttle.enter(key, now=0.1)
    assert refusal is not None and refusal.code == "ApplicationThrottled"
    throttle.leave(key)
    assert throttle.enter(key, now=1.0) is None
    throttle.leave(key)
    refusal = throttle.enter(key, now=2.5)
    assert refusal is not None and refusal.code == "TooManyRequests" and refusal.retry_after == pytest.approx(7.5)
    assert throttle.enter(("app", "tenant", "other"), now=2.5) is None
    assert format_retry_after(2.128) == "2.128" and format_retry_after(3.0) == "3"


def test_fault_draws_are_repeatable() -> None:
    def draws() -> list[str]:
        injector = FaultInjector(FaultOptions(rate_503=0.3, rate_reset=0.2, seed=11))
        return [injector.draw("GET", event_create=False, whole_request=True).kind for _ in range(50)]

    assert draws() == draws()
    assert {"", "503", "reset"} <= set(draws())

"""Every zone the hook schema accepts names, in Outlook, the instant the LMS gave.

Graph reads a ``dateTimeTimeZone`` by the rules of the zone it names: a Windows name by those of
its CLDR reference zone (the emulator's own table, ``emulator/data/windows_zones.json``), an IANA
name by its own. This test reads each payload that way, with the emulator's zone code rather than
the bridge's, and compares instants: no HTTP, so it can walk every zone over two years.
"""
from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache

from bridge.sync.zones import graph_datetime
from emulator.zones import Zones, load_iana_zones, load_windows_zones, parse_local, to_utc

FROM = datetime(2026, 6, 1, tzinfo=UTC)
YEARS = 2
STEP = timedelta(hours=23)  # walks through every hour of the day over the period


@cache
def graph_zones() -> Zones:
    """How Graph (here: the emulator) resolves the zone names it accepts."""
    return Zones(load_windows_zones(), load_iana_zones())


def read_back(sent: dict[str, str]) -> datetime:
    """The instant Graph stores for a ``dateTimeTimeZone`` it accepted."""
    return to_utc(parse_local(sent["dateTime"]), graph_zones().tzinfo(sent["timeZone"]))


def instants(zone: zoneinfo.ZoneInfo) -> Iterator[datetime]:
    """Two years of instants every 23 hours, and every hour around each change of the zone's offset."""
    moment, end = FROM, FROM + timedelta(days=365 * YEARS)
    offset = moment.astimezone(zone).utcoffset()
    while moment < end:
        yield moment
        following = moment + STEP
        if following.astimezone(zone).utcoffset() != offset:
            offset = following.astimezone(zone).utcoffset()
            yield from (moment + timedelta(minutes=30 * k) for k in range(1, 46))
        moment = following


def test_every_accepted_zone_lands_at_the_lms_instant_for_two_years() -> None:
    # the hook schema accepts exactly the names of the IANA database (plugin/contract/schemas.py)
    wrong: dict[str, tuple[datetime, dict[str, str]]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        zone = zoneinfo.ZoneInfo(name)
        for instant in instants(zone):
            sent = graph_datetime(instant, name)
            if not graph_zones().accepts(sent["timeZone"]) or read_back(sent) != instant:
                wrong.setdefault(name, (instant, sent))
    assert wrong == {}


def test_scoresbysund_is_sent_in_utc_where_its_windows_zone_keeps_the_azores_rules() -> None:
    # Scoresbysund moved from UTC-1 to UTC-2 in 2024; its Windows zone is still "Azores Standard Time"
    sent = graph_datetime(datetime(2027, 1, 1, tzinfo=UTC), "America/Scoresbysund")
    assert sent == {"dateTime": "2027-01-01T00:00:00", "timeZone": "UTC"}


def test_a_zone_whose_windows_rules_agree_keeps_its_wall_time() -> None:
    sent = graph_datetime(datetime(2027, 1, 1, 8, tzinfo=UTC), "Europe/Madrid")
    assert sent == {"dateTime": "2027-01-01T09:00:00", "timeZone": "Romance Standard Time"}

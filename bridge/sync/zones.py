"""Turning an instant into the ``dateTimeTimeZone`` Graph accepts for an event's IANA zone.

Graph takes Windows zone names, "UTC", and about a hundred IANA names; any other IANA name is
refused, so it is sent as its Windows name (CLDR mapping, from tzlocal) or, failing that, as UTC.
The wall time is computed with zoneinfo, so daylight-saving changes fall where the zone says.

A Windows zone is read by Exchange with its own rules, which are those of its CLDR reference zone
(territory 001: "Azores Standard Time" is Atlantic/Azores). Where an IANA zone changed its rules
and its Windows mapping has not followed (America/Scoresbysund moved from UTC-1 to UTC-2 in 2024
and is still mapped to "Azores Standard Time"), the same wall time names another instant; such an
instant is sent in UTC instead, so Outlook shows the right moment in every reader's zone.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import tz_win, win_tz


@cache
def graph_iana_zones() -> frozenset[str]:
    text = resources.files("bridge").joinpath("data/graph_iana_zones.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def graph_zone_name(iana: str) -> str:
    """The zone name to send to Graph for an IANA zone (itself, its Windows name, or UTC)."""
    if iana in graph_iana_zones():
        return iana
    return tz_win.get(iana, "UTC")


def ambiguous(local: datetime) -> bool:
    """A wall time that happens twice (when clocks fall back) names no single instant."""
    return local.utcoffset() != local.replace(fold=1 - local.fold).utcoffset()


def _read_back(local: datetime, name: str) -> datetime:
    """The instant Graph reads from ``local``'s wall time in zone ``name`` (a Windows name by the
    rules of its CLDR reference zone, an IANA name by its own)."""
    rules = ZoneInfo(win_tz.get(name, name))
    return local.replace(tzinfo=rules, fold=0).astimezone(UTC)


def graph_datetime(instant: datetime, iana: str) -> dict[str, str]:
    """``{"dateTime", "timeZone"}`` for ``instant`` as wall time in the event's zone.

    In UTC instead when the wall time would not name ``instant`` back: in the repeated hour after
    clocks fall back (ambiguous), and where the zone sent to Graph keeps other rules than the
    event's zone at that instant (an out-of-date Windows mapping). Outlook still shows each reader
    the entry in their own zone, and the body says the time in the event's zone.
    """
    name = graph_zone_name(iana)
    local = instant.astimezone(ZoneInfo(iana))
    if name == "UTC" or ambiguous(local) or _read_back(local, name) != instant:
        name, local = "UTC", instant.astimezone(UTC)
    return {"dateTime": local.replace(tzinfo=None).isoformat(timespec="seconds"), "timeZone": name}

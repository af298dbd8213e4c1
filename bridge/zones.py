"""Turning an instant into the ``dateTimeTimeZone`` Graph accepts for an event's IANA zone.

Graph takes Windows zone names, "UTC", and about a hundred IANA names; any other IANA name is
refused, so it is sent as its Windows name (CLDR mapping, from tzlocal) or, failing that, as UTC.
The wall time is computed with zoneinfo, so daylight-saving changes fall where the zone says.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import tz_win


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


def graph_datetime(instant: datetime, iana: str) -> dict[str, str]:
    """``{"dateTime", "timeZone"}`` for ``instant`` as wall time in the event's zone.

    In the repeated hour after clocks fall back, the wall time alone is ambiguous, so that
    instant is sent in UTC instead: Outlook still shows it in each reader's own zone.
    """
    name = graph_zone_name(iana)
    local = instant.astimezone(ZoneInfo(iana))
    if name == "UTC" or ambiguous(local):
        name, local = "UTC", instant.astimezone(UTC)
    return {"dateTime": local.replace(tzinfo=None).isoformat(timespec="seconds"), "timeZone": name}

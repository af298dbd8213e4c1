"""Time zones and date-times the way Graph's calendar takes and gives them.

Graph accepts a Windows zone name, "UTC", or one of about a hundred IANA names it lists
(``data/graph_iana_zones.txt``); any other IANA name (Europe/Madrid, ...) is refused with
``TimeZoneNotSupportedException``. Names are matched exactly (Graph's own lists are exact, and a
stand-in that is kinder than Graph would hide bugs). Date-times are local wall-clock strings
without offset; responses carry seven fractional digits.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

DATA_DIR = Path(__file__).resolve().parent / "data"
_LOCAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$")


class ZoneError(ValueError):
    """Unsupported zone name (Graph: TimeZoneNotSupportedException)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'."
        )
        self.name = name


class DateTimeError(ValueError):
    """A dateTime string Graph would not parse."""


def load_windows_zones() -> dict[str, str]:
    """Windows zone name -> IANA zone (CLDR windowsZones, territory 001)."""
    data = json.loads((DATA_DIR / "windows_zones.json").read_text(encoding="utf-8"))
    return dict(data["zones"])


def load_iana_zones(path: Path = DATA_DIR / "graph_iana_zones.txt") -> frozenset[str]:
    """The IANA names Graph accepts, one per line, '#' comments (default: the packaged list)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#"))


class Zones:
    """Resolves the zone names Graph accepts to tzinfo objects."""

    def __init__(self, windows: dict[str, str], iana: frozenset[str]) -> None:
        self.windows = windows
        self.iana = iana

    def accepts(self, name: str) -> bool:
        return name == "UTC" or name in self.windows or name in self.iana

    def tzinfo(self, name: str | None) -> dt.tzinfo:
        """tzinfo for an accepted name; ZoneError otherwise."""
        if name is None or not self.accepts(name):
            raise ZoneError("" if name is None else name)
        return _zoneinfo("UTC" if name == "UTC" else self.windows.get(name, name))


@lru_cache(maxsize=512)
def _zoneinfo(iana: str) -> dt.tzinfo:
    return dt.UTC if iana in ("UTC", "Etc/UTC") else ZoneInfo(iana)


def parse_local(value: str) -> dt.datetime:
    """Parse Graph's wall-clock ``dateTime`` (no offset; up to 7 fractional digits)."""
    m = _LOCAL.match(value) if isinstance(value, str) else None
    if not m:
        raise DateTimeError(f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTime'.")
    year, month, day, hour, minute = (int(g) for g in m.group(1, 2, 3, 4, 5))
    second = int(m.group(6) or 0)
    micro = int((m.group(7) or "0").ljust(7, "0")[:6])
    try:
        return dt.datetime(year, month, day, hour, minute, second, micro)
    except ValueError as exc:
        raise DateTimeError(f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTime'.") from exc


def to_utc(local: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Wall-clock time in ``tz`` -> aware UTC (a time in a DST gap moves forward, as Outlook does)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)


def format_local(instant: dt.datetime, tz: dt.tzinfo) -> str:
    """Aware instant -> Graph's ``2026-03-29T09:00:00.0000000`` in ``tz``."""
    local = instant.astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f".{local.microsecond:06d}0"


def format_instant(instant: dt.datetime) -> str:
    """Aware instant -> Graph's DateTimeOffset ``2026-03-29T07:00:00.1234567Z``."""
    return format_local(instant, dt.UTC) + "Z"


def parse_instant(value: str) -> dt.datetime:
    """Parse a filter literal: ``2026-03-29T07:00:00Z``, with offset, or naive (= UTC)."""
    text = value.strip().strip("'")
    frac = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", text)
    if frac:  # Python wants at most 6 fractional digits
        text = f"{frac.group(1)}.{frac.group(2)[:6]}{frac.group(3)}"
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DateTimeError(f"The DateTimeOffset text '{value}' is not valid.") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)

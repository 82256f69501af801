"""How times are written, in one place.

A call's time is written in the call's own time zone with the zone named, the same string on
every screen, export and message; every other time (due, submitted, approved, comments,
notifications, audit, evidence) in the viewer's time zone, which the
``accounts.middleware.ViewerTimeZoneMiddleware`` activates for each request.

A leaf module: Django utilities only, so models, services, views, template tags, exports
and notification text can all call it.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from django.utils import dateformat, timezone

from accounts.timezones import zone_label

DAY = "D j M Y"
CLOCK = "H:i"

# The formats of the viewer's times, by name, so a template says which kind it means.
VIEWER_FORMATS = {
    "datetime": f"{DAY}, {CLOCK}",
    "short": f"D j M, {CLOCK}",
    "date": "j M Y",
    "time": CLOCK,
    "seconds": "j M Y, H:i:s",
}


class TimedCall(Protocol):
    all_day: bool
    time_zone: str

    @property
    def local_start(self) -> dt.datetime: ...

    @property
    def local_end(self) -> dt.datetime: ...


def _abbreviation(local: dt.datetime, zone_name: str) -> str:
    """The zone's letters at that moment (EST, CEST); none for "+03"-style offsets."""
    abbr = local.tzname() or ""
    return abbr if abbr.isalpha() and abbr != zone_name else ""


def call_time(call: TimedCall) -> str:
    """The call's start in its own zone, named: "Tue 8 Dec 2026, 17:00 EST (America/Toronto)".

    An all-day call gives its day(s): "Tue 8 Dec 2026, all day (America/Toronto)".
    """
    start = call.local_start
    zone = f"({zone_label(call.time_zone)})"
    if call.all_day:
        last_day = (call.local_end - dt.timedelta(days=1)).date()
        days = dateformat.format(start, DAY)
        if last_day > start.date():
            days += " to " + dateformat.format(last_day, DAY)
        return f"{days}, all day {zone}"
    abbr = _abbreviation(start, call.time_zone)
    clock = dateformat.format(start, f"{DAY}, {CLOCK}")
    return f"{clock} {abbr} {zone}" if abbr else f"{clock} {zone}"


def call_time_iso(call: TimedCall) -> str:
    """The machine form of ``call_time`` for ``<time datetime>``: the date of an all-day
    call, else the start with the offset of the call's zone."""
    start = call.local_start
    if call.all_day:
        return start.date().isoformat()
    return start.isoformat(timespec="minutes")


def viewer_time(
    value: dt.datetime | None, style: str = "datetime", zone: dt.tzinfo | None = None
) -> str:
    """A moment in the viewer's time zone, in one of ``VIEWER_FORMATS`` ("" for none).

    ``zone`` defaults to the active one; pass it where the text is written after the request
    has ended (a streamed export).
    """
    if value is None:
        return ""
    return dateformat.format(timezone.localtime(value, zone), VIEWER_FORMATS[style])


def viewer_time_iso(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """The machine form of ``viewer_time``: ISO 8601 with the viewer's offset."""
    if value is None:
        return ""
    return timezone.localtime(value, zone).isoformat(timespec="minutes")


def viewer_zone() -> str:
    """The viewer's time zone, named as people read it."""
    return zone_label(timezone.get_current_timezone_name())

"""Time-zone names: the list we accept, its form choices and how a zone is named on screen.

A leaf module (standard library and Django core only), so calls, users and forms in both
apps validate a zone against the same list.
"""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError


@functools.cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> None:
    if name not in available_time_zones():
        raise ValidationError(
            "%(name)s is not a time zone name (e.g. Europe/Berlin).",
            code="time_zone",
            params={"name": name},
        )


def zone_label(name: str) -> str:
    """How a zone is named to people: its IANA name, spaces for underscores."""
    return name.replace("_", " ")


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, zone_label(name)) for name in sorted(available_time_zones())]


def zone_or_default(name: str) -> zoneinfo.ZoneInfo:
    """The zone of that name; the ``TIME_ZONE`` setting's for a blank or unknown name."""
    if name in available_time_zones():
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)

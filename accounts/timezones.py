"""Time-zone names: the list we accept, its form choices and how a zone is named on screen.

A leaf module (standard library and Django core only), so calls, users and forms in both
apps validate a zone against the same list.
"""

from __future__ import annotations

import functools
import zoneinfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


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


class ZoneSelect(forms.Select):
    """A select of every zone name (about 600), rendered in one pass.

    Django's ``Select`` renders each option through a template, which made a page holding
    this list several times slower than its neighbours. The markup is the same: one
    ``<option>`` per choice, the current value ``selected``.
    """

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        current = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if str(key) == current else "", label)
                for key, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)

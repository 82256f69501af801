"""Template side of ``callprep.timefmt``: ``{% load times %}``.

``{% call_when call %}`` and ``{{ call|call_time }}`` write a call's time in its own zone;
``{% viewer_when value "short" %}`` and ``{{ value|viewer_time:"short" }}`` write any other
moment in the viewer's zone; ``{% viewer_zone %}`` names that zone.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from callprep import timefmt

register = template.Library()


@register.filter
def call_time(call) -> str:
    return timefmt.call_time(call)


@register.simple_tag
def call_when(call) -> str:
    return format_html(
        '<time datetime="{}">{}</time>', timefmt.call_time_iso(call), timefmt.call_time(call)
    )


@register.filter
def viewer_time(value, style: str = "datetime") -> str:
    return timefmt.viewer_time(value, style)


@register.simple_tag
def viewer_when(value, style: str = "datetime") -> str:
    if value is None:
        return ""
    return format_html(
        '<time datetime="{}" title="Your time zone: {}">{}</time>',
        timefmt.viewer_time_iso(value),
        timefmt.viewer_zone(),
        timefmt.viewer_time(value, style),
    )


@register.simple_tag
def viewer_zone() -> str:
    return timefmt.viewer_zone()

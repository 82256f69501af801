"""Small server-rendered SVG sparklines: no JavaScript, no inline styles (strict CSP)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString


def points(values: Sequence[float | Decimal], width: int, height: int, pad: int = 2) -> str:
    """The polyline points for ``values`` scaled into the box (a flat line when constant)."""
    numbers = [float(v) for v in values]
    low, high = min(numbers), max(numbers)
    span = high - low
    step = (width - 2 * pad) / (len(numbers) - 1)
    coords = []
    for i, value in enumerate(numbers):
        x = pad + i * step
        ratio = (value - low) / span if span else 0.5
        y = height - pad - ratio * (height - 2 * pad)
        coords.append(f"{x:.1f},{y:.1f}")
    return " ".join(coords)


def sparkline_svg(
    values: Sequence[float | Decimal], *, label: str, width: int = 120, height: int = 28
) -> SafeString:
    """An accessible inline SVG line for ``values`` (oldest first); "" with fewer than 2."""
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return SafeString("")
    trend = "up" if values[-1] > values[0] else "down" if values[-1] < values[0] else "flat"
    last_x, last_y = points(values, width, height).split(" ")[-1].split(",")
    return format_html(
        '<svg class="sparkline sparkline-{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'role="img" aria-label="{}"><title>{}</title>'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/>'
        '<circle cx="{}" cy="{}" r="2" fill="currentColor"/></svg>',
        trend,
        width,
        height,
        width,
        height,
        label,
        label,
        points(values, width, height),
        last_x,
        last_y,
    )

"""Server-rendered SVG charts: no JavaScript, no library, printable, readable by screen readers.

A chart is plain data (bars with their geometry); templates/dashboard/_bar_chart.html and
_stacked_chart.html draw it with a <title> and <desc>, and every chart is followed by a table
of the same numbers. Colours come from classes in static/css/dashboard.css (no style="").
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 640
PLOT_TOP = 16
PLOT_HEIGHT = 160
LABEL_SPACE = 40
LEFT = 40


@dataclass
class Bar:
    label: str
    value: float
    display: str
    href: str
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self) -> float:
        return round(self.y - 4, 1)


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class BarChart:
    chart_id: str
    title: str
    desc: str
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = PLOT_TOP + PLOT_HEIGHT + LABEL_SPACE
    baseline: float = PLOT_TOP + PLOT_HEIGHT
    left: int = LEFT

    @property
    def label_y(self) -> float:
        return self.baseline + 18


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    items: list[tuple[str, float | None, str, str]],
    *,
    max_value: float | None = None,
    unit: str = "",
) -> BarChart:
    """Vertical bars; ``items`` are (label, value or None, value as text, drill-down URL)."""
    top = max_value or max((v or 0 for _, v, _, _ in items), default=0) or 1
    slot = (WIDTH - LEFT - 8) / max(len(items), 1)
    bar_width = max(slot * 0.7, 2)
    bars = []
    for i, (label, value, display, href) in enumerate(items):
        height = round(PLOT_HEIGHT * (value or 0) / top, 1)
        bars.append(
            Bar(
                label=label,
                value=value or 0,
                display=display,
                href=href,
                x=round(LEFT + i * slot + (slot - bar_width) / 2, 1),
                y=round(PLOT_TOP + PLOT_HEIGHT - height, 1),
                width=round(bar_width, 1),
                height=height,
            )
        )
    ticks = [
        Tick(
            y=round(PLOT_TOP + PLOT_HEIGHT * (1 - f), 1),
            label=f"{top * f:.0f}{unit}",
        )
        for f in (0, 0.5, 1)
    ]
    return BarChart(chart_id, title, desc, bars, ticks)


@dataclass
class Segment:
    label: str
    value: int
    href: str
    css: str
    x: float
    width: float


@dataclass
class StackRow:
    label: str
    total: int
    y: float
    segments: list[Segment] = field(default_factory=list)


@dataclass
class StackedChart:
    chart_id: str
    title: str
    desc: str
    rows: list[StackRow]
    legend: list[tuple[str, str]]
    width: int = WIDTH
    row_height: int = 28
    left: int = 90

    @property
    def height(self) -> int:
        return len(self.rows) * (self.row_height + 10) + 10

    @property
    def bar_height(self) -> int:
        return self.row_height


def stacked_chart(
    chart_id: str,
    title: str,
    desc: str,
    rows: list[tuple[str, list[tuple[str, str, int, str]]]],
) -> StackedChart:
    """Horizontal stacked bars; ``rows`` are (label, [(css, label, value, URL)])."""
    chart = StackedChart(chart_id, title, desc, [], [])
    top = max((sum(v for _, _, v, _ in segs) for _, segs in rows), default=0) or 1
    span = WIDTH - chart.left - 50
    for i, (label, segs) in enumerate(rows):
        row = StackRow(label, sum(v for _, _, v, _ in segs), y=10 + i * (chart.row_height + 10))
        x = float(chart.left)
        for css, seg_label, value, href in segs:
            width = round(span * value / top, 1)
            row.segments.append(Segment(seg_label, value, href, css, round(x, 1), width))
            x += width
        chart.rows.append(row)
    if rows:
        chart.legend = [(css, seg_label) for css, seg_label, _, _ in rows[0][1]]
    return chart

"""Suggested insights: transparent rules that turn evidence into talking points.

Each rule shows the numbers behind it and the evidence they came from; nothing enters a brief
unless the rep cites or writes it. The thresholds are named constants so they can be read and
discussed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .models import Evidence, format_value

RATE_RISE_POINTS = Decimal("0.25")  # a rise of at least a quarter point over 12 months
HIGH_DEBT_TO_REVENUE = Decimal("0.5")  # long-term debt at least half a year's revenue
OUTPUT_FALL_PERCENT = Decimal("-1.0")  # sector output down more than 1 % over 12 months
RATE_SERIES = ("FEDFUNDS", "DGS10", "FR.INR.LEND")
CORE_SERIES = {"FEDFUNDS", "DGS10", "CPIAUCSL", "UNRATE", "INDPRO", "UMCSENT"}


@dataclass(frozen=True)
class Number:
    label: str
    text: str
    evidence_id: int | None = None


@dataclass(frozen=True)
class Insight:
    key: str
    title: str
    talking_point: str
    section: str
    numbers: list[Number] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    series: str
    label: str
    unit: str
    old: Evidence
    new: Evidence

    @property
    def delta(self) -> Decimal:
        return self.new.value - self.old.value

    @property
    def percent(self) -> Decimal | None:
        if not self.old.value:
            return None
        return (self.delta * 100 / abs(self.old.value)).quantize(Decimal("0.1"))


def _year_ago(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def twelve_month_change(rows: list[Evidence]) -> Change | None:
    """The latest value against the last one on or before a year earlier (within 45 days);
    annual series (World Bank) compare the last two years."""
    dated = sorted((r for r in rows if r.period_end and r.value is not None), key=_end)
    if len(dated) < 2:
        return None
    new = dated[-1]
    target = _year_ago(new.period_end)
    earlier = [r for r in dated if r.period_end <= target]
    if not earlier or target - earlier[-1].period_end > timedelta(days=45):
        return None
    old = earlier[-1]
    return Change(new.series, new.label, new.unit, old, new)


def change_since(rows: list[Evidence], day: date) -> Change | None:
    """The latest value against the last observation on or before ``day`` (the date the
    account's previous brief was started); None without an observation that old, or when
    nothing newer has been observed since."""
    dated = sorted((r for r in rows if r.period_end and r.value is not None), key=_end)
    earlier = [r for r in dated if r.period_end <= day]
    if not earlier or earlier[-1] is dated[-1]:
        return None
    old, new = earlier[-1], dated[-1]
    return Change(new.series, new.label, new.unit, old, new)


def _end(row: Evidence) -> date:
    return row.period_end


def annual(rows: list[Evidence], metric: str) -> list[Evidence]:
    """Reported values of a financial metric, oldest fiscal year first."""
    return sorted(
        (r for r in rows if r.metric == metric and r.value is not None and r.period_end), key=_end
    )


def _pct(value: Decimal) -> str:
    return f"{value:+.1f}%"


def cost_pressure(financials: list[Evidence]) -> Insight | None:
    revenue = annual(financials, "revenue")
    margin = annual(financials, "operating_margin") or annual(financials, "gross_margin")
    if len(revenue) < 2 or len(margin) < 2:
        return None
    prev, last = revenue[-2], revenue[-1]
    m_prev, m_last = margin[-2], margin[-1]
    if last.period_end != m_last.period_end or not prev.value:
        return None
    if not (last.value < prev.value and m_last.value < m_prev.value):
        return None
    change = (last.value - prev.value) * 100 / abs(prev.value)
    kind = "Operating" if m_last.metric == "operating_margin" else "Gross"
    return Insight(
        key="cost_pressure",
        title="Cost pressure",
        section="financial_condition",
        talking_point=(
            f"Revenue fell {abs(change):.1f}% while the {kind.lower()} margin narrowed from "
            f"{m_prev.value:.1f}% to {m_last.value:.1f}%: costs are not falling with sales. "
            "Ask where they need to take cost out, and what is protected."
        ),
        numbers=[
            Number(prev.label, format_value(prev.value, prev.unit), prev.pk),
            Number(last.label, format_value(last.value, last.unit), last.pk),
            Number("Revenue change", _pct(change)),
            Number(m_prev.label, f"{m_prev.value:.1f}%", m_prev.pk),
            Number(m_last.label, f"{m_last.value:.1f}%", m_last.pk),
        ],
    )


def financing_pressure(financials: list[Evidence], by_series: dict) -> Insight | None:
    rising = None
    for series in RATE_SERIES:
        change = twelve_month_change(by_series.get(series, []))
        if change and change.delta >= RATE_RISE_POINTS:
            rising = change
            break
    debt = annual(financials, "long_term_debt")
    revenue = annual(financials, "revenue")
    if rising is None or not debt or not revenue or not revenue[-1].value:
        return None
    ratio = debt[-1].value / revenue[-1].value
    if ratio < HIGH_DEBT_TO_REVENUE:
        return None
    return Insight(
        key="financing_pressure",
        title="Financing pressure",
        section="economic_drivers",
        talking_point=(
            f"{rising.label} rose {rising.delta:.2f} points in a year while long-term debt is "
            f"{ratio:.0%} of annual revenue: refinancing gets dearer. Expect scrutiny of payback "
            "periods and interest in spreading costs."
        ),
        numbers=[
            Number(rising.old.label, format_value(rising.old.value, rising.unit), rising.old.pk),
            Number(rising.new.label, format_value(rising.new.value, rising.unit), rising.new.pk),
            Number(debt[-1].label, format_value(debt[-1].value, debt[-1].unit), debt[-1].pk),
            Number(
                revenue[-1].label,
                format_value(revenue[-1].value, revenue[-1].unit),
                revenue[-1].pk,
            ),
            Number("Debt to revenue", f"{ratio:.0%}"),
        ],
    )


def is_sector_output(series: str) -> bool:
    """Industry output or employment series (not prices, not the core macro set)."""
    return bool(series) and series not in CORE_SERIES and not series.startswith("PCU")


def demand_pressure(by_series: dict) -> Insight | None:
    for series, rows in sorted(by_series.items(), key=lambda item: not item[0].startswith("IPG")):
        if not is_sector_output(series) or "." in series:
            continue
        change = twelve_month_change(rows)
        if change and change.percent is not None and change.percent <= OUTPUT_FALL_PERCENT:
            return Insight(
                key="demand_pressure",
                title="Demand pressure",
                section="industry_dynamics",
                talking_point=(
                    f"{change.label} is down {abs(change.percent):.1f}% over 12 months: their "
                    "market is shrinking. Ask how they plan to win share or cut capacity."
                ),
                numbers=[
                    Number(
                        change.old.label, format_value(change.old.value, change.unit), change.old.pk
                    ),
                    Number(
                        change.new.label, format_value(change.new.value, change.unit), change.new.pk
                    ),
                    Number("Change over 12 months", _pct(change.percent)),
                ],
            )
    return None


def insights_for(account) -> list[Insight]:
    rows = list(Evidence.objects.filter(account=account, kind__in=["financial", "indicator"]))
    financials = [r for r in rows if r.kind == "financial"]
    by_series: dict[str, list[Evidence]] = {}
    for row in rows:
        if row.kind == "indicator" and row.series:
            by_series.setdefault(row.series, []).append(row)
    found = [
        cost_pressure(financials),
        financing_pressure(financials, by_series),
        demand_pressure(by_series),
    ]
    return [insight for insight in found if insight is not None]

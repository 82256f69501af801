"""Sparklines are plain SVG; insights follow their rules with known numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from callprep.evidence import insights
from callprep.evidence.models import Evidence
from callprep.evidence.sparkline import points, sparkline_svg


def test_a_sparkline_is_an_accessible_svg_without_inline_styles():
    svg = str(sparkline_svg([1, 3, 2, 5], label="Trend of <Revenue>"))
    assert svg.startswith('<svg class="sparkline sparkline-up"')
    assert 'role="img"' in svg
    assert "Trend of &lt;Revenue&gt;" in svg
    assert "style" not in svg and "<script" not in svg


def test_a_sparkline_scales_values_into_its_box():
    assert points([0, 10], width=100, height=20, pad=0) == "0.0,20.0 100.0,0.0"
    assert points([5, 5, 5], width=10, height=10, pad=0) == "0.0,5.0 5.0,5.0 10.0,5.0"


def test_a_sparkline_needs_two_values_and_shows_a_fall():
    assert sparkline_svg([1], label="x") == ""
    assert "sparkline-down" in sparkline_svg([3, 1], label="x")


pytestmark = pytest.mark.django_db


def fin(account, metric, year, value, unit="USD"):
    return Evidence.objects.create(
        account=account,
        collector="sec",
        kind="financial",
        source="sec-companyfacts",
        key=f"{metric}:{year}",
        label=f"{metric} FY{year}",
        metric=metric,
        value=Decimal(value),
        unit=unit,
        period_end=date(year, 6, 30),
    )


def obs(account, series, day, value):
    return Evidence.objects.create(
        account=account,
        collector="fred",
        kind="indicator",
        source="fred",
        key=f"{series}:{day}",
        label=f"{series} label",
        series=series,
        value=Decimal(value),
        unit="percent" if series == "FEDFUNDS" else "index",
        period_end=date.fromisoformat(day),
    )


def keys(account):
    return [i.key for i in insights.insights_for(account)]


def test_falling_revenue_and_a_narrower_margin_suggest_cost_pressure(northwind):
    fin(northwind, "revenue", 2023, "1000000000")
    fin(northwind, "revenue", 2024, "900000000")
    fin(northwind, "operating_margin", 2023, "12.0", "percent")
    fin(northwind, "operating_margin", 2024, "9.5", "percent")
    (cost,) = insights.insights_for(northwind)
    assert cost.key == "cost_pressure"
    assert "Revenue fell 10.0%" in cost.talking_point
    assert "from 12.0% to 9.5%" in cost.talking_point
    assert ("Revenue change", "-10.0%") in [(n.label, n.text) for n in cost.numbers]


def test_falling_revenue_with_a_wider_margin_is_not_cost_pressure(northwind):
    fin(northwind, "revenue", 2023, "1000")
    fin(northwind, "revenue", 2024, "900")
    fin(northwind, "operating_margin", 2023, "9.0", "percent")
    fin(northwind, "operating_margin", 2024, "9.5", "percent")
    assert keys(northwind) == []


def test_rising_rates_and_high_debt_suggest_financing_pressure(northwind):
    obs(northwind, "FEDFUNDS", "2025-10-01", "4.33")
    obs(northwind, "FEDFUNDS", "2026-10-01", "4.83")
    fin(northwind, "revenue", 2024, "800000000")
    fin(northwind, "long_term_debt", 2024, "600000000")
    (financing,) = insights.insights_for(northwind)
    assert financing.key == "financing_pressure"
    assert "rose 0.50 points" in financing.talking_point
    assert "75% of annual revenue" in financing.talking_point


def test_rising_rates_with_little_debt_suggest_nothing(northwind):
    obs(northwind, "FEDFUNDS", "2025-10-01", "4.33")
    obs(northwind, "FEDFUNDS", "2026-10-01", "4.83")
    fin(northwind, "revenue", 2024, "800000000")
    fin(northwind, "long_term_debt", 2024, "100000000")
    assert keys(northwind) == []


def test_falling_sector_output_suggests_demand_pressure(northwind):
    obs(northwind, "IPG333S", "2025-10-01", "100.0")
    obs(northwind, "IPG333S", "2026-10-01", "95.0")
    obs(northwind, "INDPRO", "2025-10-01", "100.0")  # core series do not count
    obs(northwind, "INDPRO", "2026-10-01", "80.0")
    (demand,) = insights.insights_for(northwind)
    assert demand.key == "demand_pressure"
    assert "down 5.0% over 12 months" in demand.talking_point
    assert [n.text for n in demand.numbers][-1] == "-5.0%"


def test_a_small_dip_in_output_or_a_gap_of_a_year_is_not_enough(northwind):
    obs(northwind, "IPG333S", "2025-10-01", "100.0")
    obs(northwind, "IPG333S", "2026-10-01", "99.5")
    obs(northwind, "MANEMP", "2024-01-01", "100.0")
    obs(northwind, "MANEMP", "2026-10-01", "50.0")
    assert keys(northwind) == []


def test_the_demo_recordings_for_northwind_suggest_demand_and_financing_talking_points(
    northwind,
):
    from callprep.evidence import collect

    run = collect.start_collection(northwind)
    for source_run in run.sources.filter(state="queued"):
        collect.collect_source(source_run.pk)
    found = keys(northwind)
    assert "demand_pressure" in found

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from callprep.sources.base import ParseError
from callprep.sources.worldbank import next_page, parse_indicators

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_it_reads_indicator_rows_and_skips_years_without_a_value():
    rows = parse_indicators(load("worldbank-norway-gdp-page1.json"))
    assert [r.key for r in rows] == ["NY.GDP.MKTP.KD.ZG:NOR:2023", "NY.GDP.MKTP.KD.ZG:NOR:2022"]
    row = rows[0]
    assert row.kind == "indicator"
    assert row.series == "NY.GDP.MKTP.KD.ZG"
    assert row.value == Decimal("0.512345")
    assert row.unit == "percent"
    assert row.period_start == date(2023, 1, 1)
    assert row.period_end == date(2023, 12, 31)
    assert row.label == "GDP growth, Norway, 2023"
    assert row.excerpt == "GDP growth in Norway for 2023: 0.51%."
    assert row.to_json()["date"] == "2023-12-31"


def test_it_reads_negative_values():
    rows = parse_indicators(load("worldbank-norway-gdp-page2.json"))
    assert rows[-1].value == Decimal("-1.3")


def test_it_tells_the_caller_which_page_comes_next():
    assert next_page(load("worldbank-norway-gdp-page1.json")) == 2
    assert next_page(load("worldbank-norway-gdp-page2.json")) is None
    assert next_page(load("worldbank-empty.json")) is None


def test_it_returns_nothing_when_the_country_has_no_data():
    assert parse_indicators(load("worldbank-empty.json")) == []


def test_it_passes_on_the_world_bank_error_message():
    with pytest.raises(ParseError, match="The provided parameter value is not valid"):
        parse_indicators(load("worldbank-error.json"))
    with pytest.raises(ParseError, match="not valid"):
        next_page(load("worldbank-error.json"))


def test_it_explains_a_response_that_is_not_json():
    with pytest.raises(ParseError, match="web page"):
        parse_indicators(b"<?xml version='1.0'?><wb:error>bad</wb:error>")

import functools
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from callprep.sources import PARSERS
from callprep.sources.base import ParseError
from callprep.sources.fred import (
    parse_fredgraph_csv,
    parse_observations_json,
    series_for_naics,
    summarise_series,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_it_reads_observations_json_and_skips_missing_values():
    rows = parse_observations_json(load("fred-fedfunds.json"), series_id="FEDFUNDS")
    assert len(rows) == 45  # 46 observations, one "."
    assert all(r.period_end != date(2022, 6, 1) for r in rows)
    latest = rows[-1]
    assert latest.key == "FEDFUNDS:2024-10-01"
    assert latest.kind == "indicator"
    assert latest.series == "FEDFUNDS"
    assert latest.value == Decimal("4.83")
    assert latest.unit == "percent"
    assert latest.url == "https://fred.stlouisfed.org/series/FEDFUNDS"


def test_it_gives_indicators_a_date_in_json():
    row = parse_observations_json(load("fred-fedfunds.json"), series_id="FEDFUNDS")[-1]
    data = row.to_json()
    assert data["series"] == "FEDFUNDS"
    assert data["date"] == data["period_end"] == "2024-10-01"
    assert data["value"] == 4.83


def test_it_needs_to_know_the_series_of_json_observations():
    with pytest.raises(ParseError, match="series"):
        parse_observations_json(load("fred-fedfunds.json"))
    parser = functools.partial(PARSERS["fred-json"], series_id="FEDFUNDS")
    assert parser(load("fred-fedfunds.json"))[0].key == "FEDFUNDS:2021-01-01"


def test_it_passes_on_fred_error_messages():
    with pytest.raises(ParseError, match=r"Bad Request\.  The series does not exist"):
        parse_observations_json(
            b'{"error_code": 400, "error_message": "Bad Request.  The series does not exist."}',
            series_id="NOPE",
        )


def test_it_reads_the_new_fredgraph_csv_header():
    rows = parse_fredgraph_csv(load("fredgraph-unrate.csv"))
    assert [r.key for r in rows] == [
        "UNRATE:2023-08-01",
        "UNRATE:2023-09-01",
        "UNRATE:2023-10-01",
        "UNRATE:2023-12-01",
        "UNRATE:2024-02-01",
    ]
    assert rows[-1].value == Decimal("3.9")


def test_it_reads_the_old_fredgraph_csv_header_with_windows_line_endings():
    rows = parse_fredgraph_csv(load("fredgraph-dgs10-old.csv"), series_id="DGS10")
    assert [(r.period_end, r.value) for r in rows] == [
        (date(2024, 10, 1), Decimal("3.74")),
        (date(2024, 10, 2), Decimal("3.79")),
        (date(2024, 10, 4), Decimal("3.98")),
    ]


def test_it_rejects_a_csv_that_is_not_from_fredgraph():
    with pytest.raises(ParseError, match="web page"):
        parse_fredgraph_csv(b"<html><body>Error</body></html>")
    with pytest.raises(ParseError, match="does not contain the series CPIAUCSL"):
        parse_fredgraph_csv(load("fredgraph-unrate.csv"), series_id="CPIAUCSL")


def test_it_summarises_latest_value_twelve_month_change_and_trend():
    rows = parse_observations_json(load("fred-fedfunds.json"), series_id="FEDFUNDS")
    summary = summarise_series(rows)
    assert summary["latest_value"] == 4.83
    assert summary["latest_date"] == "2024-10-01"
    assert summary["year_ago_value"] == 5.33
    assert summary["change_12m"] == -0.5
    assert summary["change_12m_pct"] == -9.38
    trend = summary["trend"]
    assert trend[0] == ("2021-11-01", 0.08)
    assert trend[-1] == ("2024-10-01", 4.83)
    assert len(trend) == 35  # 36 months, June 2022 missing


def test_it_summarises_a_daily_series_against_the_nearest_earlier_day():
    rows = parse_fredgraph_csv(
        b"DATE,DGS10\n2023-10-02,4.69\n2023-10-03,4.81\n2024-10-03,3.85\n2024-10-04,3.98\n"
    )
    summary = summarise_series(rows)
    assert summary["year_ago_date"] == "2023-10-03"
    assert summary["change_12m"] == -0.83


def test_it_summarises_a_short_series_without_a_year_ago_value():
    summary = summarise_series(parse_fredgraph_csv(load("fredgraph-unrate.csv")))
    assert summary["change_12m"] is None
    assert summary["change_12m_pct"] is None
    assert summarise_series([])["latest_value"] is None


def test_it_picks_core_and_manufacturing_series_for_a_manufacturer():
    series = series_for_naics("333249")
    assert series[:6] == ["FEDFUNDS", "DGS10", "CPIAUCSL", "UNRATE", "INDPRO", "UMCSENT"]
    assert series[6:] == ["MANEMP", "IPG333S", "PCU333333"]


def test_it_uses_the_longest_matching_naics_prefix():
    assert series_for_naics("454110")[6:] == ["USTRADE", "ECOMSA"]
    assert series_for_naics("448140")[6:] == ["USTRADE", "RSAFS"]
    assert series_for_naics("236220")[6:] == ["USCONS", "TTLCONS", "HOUST"]
    assert series_for_naics("238210")[6:] == ["USCONS", "TTLCONS"]


def test_it_maps_service_sectors_to_their_employment_series():
    assert series_for_naics("541511")[6:] == ["USPBS"]
    assert series_for_naics("5112")[6:] == ["USINFO"]
    assert series_for_naics("522110")[6:] == ["USFIRE"]
    assert series_for_naics("621111")[6:] == ["USEHS"]
    assert series_for_naics("722511")[6:] == ["USLAH"]
    assert series_for_naics("484121")[6:] == ["USTPU", "PCU484484"]
    assert series_for_naics("211120")[6:] == ["USMINE", "PCU211211"]


def test_it_falls_back_to_core_series_for_an_unknown_code_without_duplicates():
    assert series_for_naics("") == ["FEDFUNDS", "DGS10", "CPIAUCSL", "UNRATE", "INDPRO", "UMCSENT"]
    assert series_for_naics("99") == series_for_naics("")
    assert len(set(series_for_naics("336111"))) == len(series_for_naics("336111"))

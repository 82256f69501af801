import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from callprep.sources.base import ParseError
from callprep.sources.sec import (
    company_profile,
    describe_items,
    parse_company_facts,
    parse_company_tickers,
    parse_submissions,
    place_name,
    ticker_map,
)

FIXTURES = Path(__file__).parent / "fixtures"
M = Decimal(1_000_000)


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def by_key(rows):
    keyed = {row.key: row for row in rows}
    assert len(keyed) == len(rows), "keys must be unique for an idempotent upsert"
    return keyed


@pytest.fixture
def northwind():
    return by_key(parse_company_facts(load("companyfacts-northwind.json")))


@pytest.fixture
def halvorsen():
    return by_key(parse_company_facts(load("companyfacts-halvorsen-ifrs.json")))


def facts_doc(us_gaap: dict, cik=42) -> bytes:
    return json.dumps({"cik": cik, "entityName": "Test Co", "facts": {"us-gaap": us_gaap}}).encode()


def point(start, end, val, *, form="10-K", filed="2024-03-01", accn="0000000042-24-000001", **kw):
    data = {"end": end, "val": val, "accn": accn, "form": form, "filed": filed, "fy": 2024}
    if start:
        data["start"] = start
    return {**data, **kw}


def test_it_reports_the_five_most_recent_fiscal_years_by_period_end(northwind):
    revenue_ends = sorted(r.period_end for r in northwind.values() if r.metric == "revenue")
    assert revenue_ends == [date(y, 6, 30) for y in range(2020, 2025)]
    assert northwind["revenue:2024-06-30"].value == 726 * M
    assert northwind["revenue:2024-06-30"].period_start == date(2023, 7, 1)
    assert northwind["revenue:2024-06-30"].label == "Revenue, FY2024"
    assert northwind["revenue:2024-06-30"].unit == "USD"


def test_it_uses_start_and_end_dates_not_the_filing_fy(northwind):
    # The FY2020 figure appears in the 2021 and 2022 10-Ks too, where fy says 2021/2022.
    row = northwind["revenue:2020-06-30"]
    assert row.value == 450 * M
    assert row.extra["fiscal_year"] == 2020


def test_it_ignores_quarterly_and_year_to_date_durations(northwind):
    values = {r.value for r in northwind.values() if r.metric == "revenue"}
    assert 540 * M not in values  # nine months year to date in the 10-Q
    assert 190 * M not in values  # a quarter in the 10-Q
    assert 186 * M not in values  # the fourth quarter disclosed inside the 10-K


def test_it_keeps_the_latest_filed_value_for_a_restated_year(northwind):
    # 600M was first filed (and carries the frame); a 10-K/A and later 10-Ks say 590M.
    row = northwind["revenue:2022-06-30"]
    assert row.value == 590 * M
    assert row.extra["filed"] == "2024-08-15"


def test_it_dedupes_a_value_repeated_across_filings_into_one_row_per_period(northwind):
    assert [r.key for r in northwind.values() if r.metric == "operating_income"] == [
        f"operating_income:{y}-06-30" for y in range(2024, 2019, -1)
    ]


def test_it_prefers_the_first_concept_in_the_chain_when_two_cover_a_year(northwind):
    # FY2019 is in SalesRevenueNet (400M) and, re-presented, in the ASC 606 concept (410M):
    # growth for FY2020 is measured against 410M.
    assert northwind["revenue_growth:2020-06-30"].value == Decimal("9.8")
    assert northwind["revenue_growth:2020-06-30"].extra["compared_with"] == "2019-06-30"


def test_it_merges_older_years_from_an_earlier_revenue_concept():
    doc = facts_doc(
        {
            "SalesRevenueNet": {
                "units": {"USD": [point("2017-01-01", "2017-12-31", 90, filed="2018-02-01")]}
            },
            "RevenueFromContractWithCustomerExcludingAssessedTax": {
                "units": {"USD": [point("2018-01-01", "2018-12-31", 100, filed="2019-02-01")]}
            },
        }
    )
    rows = by_key(parse_company_facts(doc))
    assert rows["revenue:2017-12-31"].concept == "us-gaap:SalesRevenueNet"
    assert rows["revenue:2018-12-31"].concept == (
        "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"
    )
    assert rows["revenue_growth:2018-12-31"].value == Decimal("11.1")


def test_it_only_counts_annual_forms_as_annual(northwind):
    doc = facts_doc(
        {"Revenues": {"units": {"USD": [point("2023-01-01", "2023-12-31", 5, form="8-K")]}}}
    )
    assert parse_company_facts(doc) == []


def test_it_marks_a_concept_the_company_does_not_report_as_not_reported(northwind):
    row = northwind["gross_profit:2024-06-30"]
    assert row.value is None
    assert row.extra["status"] == "not_reported"
    assert row.to_json()["value"] is None
    assert "gross_margin:2024-06-30" not in northwind


def test_it_reads_balance_sheet_instants_at_the_fiscal_year_end(northwind):
    assert northwind["cash:2024-06-30"].value == 130 * M
    assert northwind["cash:2024-06-30"].period_start is None
    assert northwind["cash:2020-06-30"].value == 90 * M
    assert all(r.value != 999 * M for r in northwind.values())  # a 10-Q balance


def test_it_prefers_noncurrent_long_term_debt_and_falls_back_to_total(northwind):
    assert northwind["long_term_debt:2024-06-30"].value == 160 * M
    assert northwind["long_term_debt:2024-06-30"].concept == "us-gaap:LongTermDebtNoncurrent"
    assert northwind["long_term_debt:2021-06-30"].value == 220 * M
    assert northwind["long_term_debt:2021-06-30"].concept == "us-gaap:LongTermDebt"


def test_it_computes_growth_and_margins_as_percent_rows(northwind):
    assert northwind["revenue_growth:2023-06-30"].value == Decimal("11.9")  # 660 vs 590
    assert northwind["revenue_growth:2024-06-30"].value == Decimal("10.0")
    assert northwind["operating_margin:2024-06-30"].value == Decimal("10.9")
    assert northwind["net_margin:2024-06-30"].value == Decimal("-1.7")
    assert northwind["net_margin:2024-06-30"].unit == "percent"
    assert northwind["net_income:2024-06-30"].value == -12 * M


def test_it_accepts_a_zero_padded_string_cik_and_links_the_filing(northwind):
    row = northwind["revenue:2024-06-30"]
    assert row.url == "https://www.sec.gov/Archives/edgar/data/1999001/000199900124000040/"
    assert row.extra["cik"] == 1999001


def test_it_maps_ifrs_concepts_to_the_same_metrics_in_the_reporting_currency(halvorsen):
    assert halvorsen["revenue:2024-12-31"].value == 920 * M
    assert halvorsen["revenue:2024-12-31"].unit == "EUR"
    assert halvorsen["gross_profit:2024-12-31"].value == 230 * M
    assert halvorsen["operating_income:2024-12-31"].value == 46 * M
    assert halvorsen["net_income:2024-12-31"].value == Decimal("27.6") * M
    assert halvorsen["net_income:2024-12-31"].concept == (
        "ifrs-full:ProfitLossAttributableToOwnersOfParent"
    )
    assert halvorsen["cash:2024-12-31"].value == 58 * M
    assert halvorsen["long_term_debt:2024-12-31"].value == 450 * M
    assert halvorsen["revenue_growth:2024-12-31"].value == Decimal("-5.0")
    assert halvorsen["revenue_growth:2024-12-31"].unit == "percent"


def test_it_returns_only_the_years_an_ifrs_filer_has(halvorsen):
    ends = sorted({r.period_end for r in halvorsen.values()})
    assert ends == [date(2021, 12, 31), date(2022, 12, 31), date(2023, 12, 31), date(2024, 12, 31)]
    assert halvorsen["operating_income:2021-12-31"].extra["status"] == "not_reported"


def test_it_serialises_rows_to_json_with_iso_dates_and_numbers(northwind):
    data = northwind["revenue:2024-06-30"].to_json()
    assert data["metric"] == "revenue"
    assert data["value"] == 726_000_000 and isinstance(data["value"], int)
    assert data["period_end"] == "2024-06-30"
    assert data["concept"] == "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"
    assert data["unit"] == "USD"
    assert json.loads(json.dumps(data)) == data
    assert northwind["net_margin:2024-06-30"].to_json()["value"] == -1.7


def test_it_explains_a_response_that_is_not_json():
    with pytest.raises(ParseError, match="not JSON"):
        parse_company_facts(b"Request rate threshold exceeded")
    with pytest.raises(ParseError, match="web page"):
        parse_company_facts(b"<!DOCTYPE html><html><body>Too many requests</body></html>")
    with pytest.raises(ParseError, match="without any financial facts"):
        parse_company_facts(b'{"cik": 1, "entityName": "X"}')


# --- submissions ------------------------------------------------------------------------


def test_it_zips_recent_filings_and_keeps_reports_only():
    rows = parse_submissions(load("submissions-northwind.json"))
    assert [r.extra["form"] for r in rows] == ["8-K", "8-K", "10-K", "8-K", "10-Q", "10-K/A"]
    assert all(r.kind == "filing" and r.source == "sec-submissions" for r in rows)


def test_it_links_each_filing_to_its_primary_document():
    rows = by_key(parse_submissions(load("submissions-northwind.json")))
    annual = rows["0001999001-24-000040"]
    assert annual.url == (
        "https://www.sec.gov/Archives/edgar/data/1999001/000199900124000040/nwrb-20240630.htm"
    )
    assert annual.period_end == date(2024, 6, 30)
    assert annual.extra["filed"] == "2024-08-15"
    assert annual.extra["form_label"] == "Annual report"


def test_it_translates_8k_items_into_plain_language():
    rows = by_key(parse_submissions(load("submissions-northwind.json")))
    deal = rows["0001999001-24-000033"]
    assert deal.extra["item_codes"] == ["1.01", "2.03", "9.01"]
    assert deal.extra["items"] == [
        "Entry into a material agreement",
        "New direct financial obligation",
        "Financial statements and exhibits",
    ]
    assert "Entry into a material agreement" in deal.label
    assert describe_items("2.02,4.02, 7.01") == [
        "Results of operations and financial condition",
        "Prior financial statements should no longer be relied on",
        "Regulation FD disclosure",
    ]
    assert describe_items("9.99") == ["Item 9.99"]


def test_it_limits_the_number_of_filings():
    rows = parse_submissions(load("submissions-northwind.json"), limit=2)
    assert [r.key for r in rows] == ["0001999001-24-000051", "0001999001-24-000045"]


def test_it_builds_a_company_profile_with_readable_places():
    profile = company_profile(load("submissions-northwind.json"))
    assert profile["name"] == "Northwind Robotics Inc."
    assert profile["cik"] == "0001999001"
    assert profile["sic"] == "3569"
    assert profile["sic_description"].startswith("General Industrial Machinery")
    assert profile["fiscal_year_end"] == "0630"
    assert profile["state_or_country"] == "Massachusetts"
    assert profile["former_names"] == [
        {"name": "NORTHWIND AUTOMATION CORP", "from": "2009-03-02", "to": "2018-05-14"}
    ]
    assert profile["tickers"] == ["NWRB"]
    assert profile["exchanges"] == ["Nasdaq"]


def test_it_resolves_edgar_country_codes_and_keeps_unknown_ones():
    assert place_name("X0") == "United Kingdom"
    assert place_name("L2") == "Ireland"
    assert place_name("P7") == "Netherlands"
    assert place_name("Q8") == "Norway"
    assert place_name("2M") == "Germany"
    assert place_name("A6") == "Ontario, Canada"
    assert place_name("E9") == "Cayman Islands"
    assert place_name("ZZ") == "ZZ"
    assert place_name(None) is None


def test_it_rejects_a_submissions_file_without_a_cik():
    with pytest.raises(ParseError, match="company number"):
        parse_submissions(b'{"name": "Nobody"}')


# --- tickers ----------------------------------------------------------------------------


def test_it_maps_tickers_to_ten_digit_ciks():
    mapping = ticker_map(load("company-tickers.json"))
    assert mapping == {"NWRB": "0001999001", "HALV": "0001999002", "BRKW-B": "0001999003"}


def test_it_returns_reference_rows_for_the_ticker_list():
    rows = by_key(parse_company_tickers(load("company-tickers.json")))
    assert rows["HALV"].kind == "reference"
    assert rows["HALV"].label == "Halvorsen Maritime ASA (HALV)"
    assert rows["HALV"].extra["cik"] == "0001999002"


# --- the shared contract ------------------------------------------------------------------


def test_the_registry_names_every_source_parser():
    from callprep.sources import PARSERS

    assert set(PARSERS) == {
        "sec-companyfacts",
        "sec-submissions",
        "sec-tickers",
        "fred-json",
        "fred-csv",
        "worldbank",
        "feed",
        "gdelt",
    }
    assert PARSERS["sec-companyfacts"](load("companyfacts-northwind.json"))


def test_an_evidence_row_clips_its_excerpt_and_refuses_unknown_kinds():
    from callprep.sources.base import EvidenceRow

    row = EvidenceRow(kind="web", source="website", key="k", label="l", excerpt="word " * 200)
    assert len(row.excerpt) <= 500
    assert row.excerpt.endswith("…")
    with pytest.raises(ValueError, match="unknown evidence kind"):
        EvidenceRow(kind="gossip", source="x", key="k", label="l")

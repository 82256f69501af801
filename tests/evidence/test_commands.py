"""parse_source and import_evidence: downloaded files through the same parsers, offline."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from callprep.evidence.models import CollectionRun, Evidence

RECORDINGS = Path(__file__).resolve().parents[2] / "callprep" / "evidence" / "recordings"
FACTS = RECORDINGS / "sec" / "companyfacts-CIK0001999001.json"
FRED = RECORDINGS / "fred" / "FEDFUNDS.csv"


def parse(*args) -> list[dict]:
    out = StringIO()
    call_command("parse_source", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_parse_source_prints_company_facts_as_json_lines():
    rows = parse("sec-companyfacts", str(FACTS))
    revenue = next(r for r in rows if r["metric"] == "revenue" and r["period_end"] == "2024-06-30")
    assert revenue["value"] == 726000000
    assert isinstance(revenue["value"], int)
    assert revenue["unit"] == "USD"
    assert revenue["concept"].endswith("RevenueFromContractWithCustomerExcludingAssessedTax")
    metrics = {r["metric"] for r in rows}
    assert {"revenue", "net_income", "operating_income", "cash", "long_term_debt"} <= metrics


def test_parse_source_prints_fred_series_with_dates():
    rows = parse("fred-csv", str(FRED))
    assert rows[0]["series"] == "FEDFUNDS"
    assert rows[0]["date"] == rows[0]["period_end"] == "2022-11-01"
    assert isinstance(rows[0]["value"], float)
    assert rows[0]["unit"] == "percent"


def test_parse_source_takes_the_series_of_a_fred_json_file_from_its_name(tmp_path):
    file = tmp_path / "fred-UNRATE.json"
    file.write_text(json.dumps({"observations": [{"date": "2024-01-01", "value": "3.7"}]}))
    assert parse("fred-json", str(file)) == parse("fred-json", str(file), "--series", "UNRATE")
    assert parse("fred-json", str(file))[0]["series"] == "UNRATE"


def test_parse_source_explains_an_unknown_source_or_a_bad_file(tmp_path):
    with pytest.raises(CommandError, match="Unknown source"):
        call_command("parse_source", "bogus", str(FRED))
    bad = tmp_path / "bad.json"
    bad.write_text("<html>rate limited</html>")
    with pytest.raises(CommandError, match="web page instead of data"):
        call_command("parse_source", "sec-companyfacts", str(bad))


@pytest.mark.django_db
def test_import_evidence_loads_a_file_into_an_account_twice_without_duplicates(northwind):
    out = StringIO()
    call_command("import_evidence", "NWRB", str(FACTS), "--source", "sec-companyfacts", stdout=out)
    assert "Imported" in out.getvalue()
    count = Evidence.objects.filter(account=northwind).count()
    assert count > 0
    call_command("import_evidence", str(northwind.pk), str(FACTS), "--source", "sec-companyfacts")
    assert Evidence.objects.filter(account=northwind).count() == count
    run = CollectionRun.objects.first()
    assert run.trigger == "import"
    assert run.sources.get().reason.startswith("imported")


@pytest.mark.django_db
def test_import_evidence_refuses_an_unknown_account(northwind):
    with pytest.raises(CommandError, match="No single account"):
        call_command("import_evidence", "NOPE", str(FRED), "--source", "fred-csv")

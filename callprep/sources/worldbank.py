"""World Bank indicators API (v2, JSON): country growth, inflation, unemployment, rates.

A response is ``[meta, rows]``. Rows are ``indicator`` rows from source ``worldbank`` keyed
``"<INDICATOR>:<ISO3>:<year>"`` and covering the calendar year. Years without a value
(``null``) are skipped: the World Bank lists every year, reported or not.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .base import EvidenceRow, ParseError, load_json

SOURCE = "worldbank"
INDICATORS = {
    "NY.GDP.MKTP.KD.ZG": "GDP growth",
    "FP.CPI.TOTL.ZG": "Inflation, consumer prices",
    "SL.UEM.TOTL.ZS": "Unemployment rate",
    "FR.INR.LEND": "Lending interest rate",
}
PERCENT_INDICATORS = frozenset(INDICATORS)


def _document(data: bytes) -> tuple[dict[str, Any], list[Any]]:
    doc = load_json(data, "The World Bank")
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "message" in doc[0]:
        messages = doc[0].get("message") or []
        text = "; ".join(
            str(m.get("value") or m.get("key") or "") for m in messages if isinstance(m, dict)
        )
        raise ParseError(f"The World Bank refused the request: {text or 'unknown error'}")
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
        raise ParseError("The World Bank returned data in an unexpected shape")
    rows = doc[1] if len(doc) > 1 and isinstance(doc[1], list) else []
    return doc[0], rows


def next_page(data: bytes) -> int | None:
    """The page to ask for next, or None when this was the last one."""
    meta, _ = _document(data)
    try:
        page, pages = int(meta.get("page") or 0), int(meta.get("pages") or 0)
    except (TypeError, ValueError):
        return None
    return page + 1 if page < pages else None


def parse_indicators(data: bytes) -> list[EvidenceRow]:
    """Rows for one page of ``/v2/country/<code>/indicator/<id>?format=json``."""
    _, records = _document(data)
    rows = []
    for record in records:
        if not isinstance(record, dict) or record.get("value") is None:
            continue
        indicator = (record.get("indicator") or {}).get("id") or ""
        country = record.get("country") or {}
        iso3 = record.get("countryiso3code") or country.get("id") or ""
        try:
            year = int(str(record.get("date"))[:4])
            value = Decimal(str(record["value"]))
        except (ValueError, InvalidOperation):
            continue
        name = (
            INDICATORS.get(indicator) or (record.get("indicator") or {}).get("value") or indicator
        )
        country_name = country.get("value") or iso3
        unit = "percent" if indicator in PERCENT_INDICATORS else record.get("unit") or ""
        shown = f"{value:.2f}%" if unit == "percent" else f"{value} {unit}".strip()
        location = country.get("id") or iso3
        rows.append(
            EvidenceRow(
                kind="indicator",
                source=SOURCE,
                key=f"{indicator}:{iso3}:{year}",
                label=f"{name}, {country_name}, {year}",
                series=indicator,
                value=value,
                unit=unit,
                period_start=date(year, 1, 1),
                period_end=date(year, 12, 31),
                url=f"https://data.worldbank.org/indicator/{indicator}?locations={location}",
                excerpt=f"{name} in {country_name} for {year}: {shown}.",
                extra={"country": country_name, "country_iso3": iso3, "year": year},
            )
        )
    return rows

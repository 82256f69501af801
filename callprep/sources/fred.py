"""FRED (Federal Reserve Economic Data): observations as JSON or fredgraph CSV.

Rows are ``indicator`` rows from source ``fred`` whatever the format, keyed
``"<SERIES>:<YYYY-MM-DD>"``, so the JSON and CSV of one series upsert onto the same rows.
Missing observations (``"."`` or empty) are skipped: FRED uses them for dates with no data.

The observations JSON does not name its series, so ``parse_observations_json`` needs
``series_id`` (the worker knows it from the request; use ``functools.partial`` when going
through the registry) unless the document carries a ``series_id`` field.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from .base import EvidenceRow, ParseError, load_json, number, parse_date

SOURCE = "fred"
SERIES_FILE = Path(__file__).with_name("fred_series.json")
MISSING = {"", "."}


@cache
def _catalogue() -> dict[str, Any]:
    return json.loads(SERIES_FILE.read_text(encoding="utf-8"))


def series_unit(series_id: str) -> str:
    units = _catalogue()["units"]
    if series_id in units:
        return units[series_id]
    for pattern, unit in units.items():
        if pattern.endswith("*") and series_id.startswith(pattern[:-1]):
            return unit
    return ""


def series_label(series_id: str) -> str:
    labels = _catalogue()["labels"]
    if series_id in labels:
        return labels[series_id]
    if series_id.startswith("IPG"):
        return f"Industrial production, NAICS {series_id[3:].removesuffix('S')}"
    if series_id.startswith("PCU"):
        return f"Producer prices, NAICS {series_id[3:][: len(series_id[3:]) // 2]}"
    return series_id


def series_url(series_id: str) -> str:
    return f"https://fred.stlouisfed.org/series/{series_id}"


def series_for_naics(naics_code: str) -> list[str]:
    """FRED series worth watching for a customer in this NAICS industry, core series first.

    Sector series come from the longest matching prefix in ``fred_series.json``; for
    manufacturing the 3-digit industrial production index (``IPG<naics>S``), and for the
    sectors with industry producer price indexes the 3-digit PPI (``PCU<naics><naics>``).
    """
    catalogue = _catalogue()
    code = "".join(ch for ch in str(naics_code) if ch.isdigit())
    chosen: list[str] = list(catalogue["core"])
    prefixes = catalogue["by_naics_prefix"]
    for length in range(len(code), 1, -1):
        if code[:length] in prefixes:
            chosen.extend(prefixes[code[:length]])
            break
    if len(code) >= 3:
        three = code[:3]
        if code[:2] in catalogue["industrial_production_sectors"]:
            chosen.append(f"IPG{three}S")
        if code[:2] in catalogue["producer_price_sectors"]:
            chosen.append(f"PCU{three}{three}")
    return list(dict.fromkeys(chosen))


def _row(series_id: str, when: date, value: Decimal) -> EvidenceRow:
    label = series_label(series_id)
    unit = series_unit(series_id)
    return EvidenceRow(
        kind="indicator",
        source=SOURCE,
        key=f"{series_id}:{when.isoformat()}",
        label=f"{label} ({series_id})",
        series=series_id,
        value=value,
        unit=unit,
        period_start=when,
        period_end=when,
        url=series_url(series_id),
        excerpt=f"{label}: {value} {unit} on {when.isoformat()} (FRED {series_id}).".replace(
            "  ", " "
        ),
    )


def _decimal(text: Any) -> Decimal | None:
    text = str(text if text is not None else "").strip()
    if text in MISSING:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_observations_json(data: bytes, series_id: str | None = None) -> list[EvidenceRow]:
    """Rows from the ``fred/series/observations`` API in JSON."""
    doc = load_json(data, "FRED")
    if not isinstance(doc, dict):
        raise ParseError("FRED returned data in an unexpected shape")
    if "error_message" in doc:
        raise ParseError(f"FRED refused the request: {doc['error_message']}")
    if not isinstance(doc.get("observations"), list):
        raise ParseError("FRED returned a response without observations")
    series_id = (series_id or doc.get("series_id") or "").strip().upper()
    if not series_id:
        raise ParseError("FRED observations need the series they belong to")
    rows = []
    for observation in doc["observations"]:
        if not isinstance(observation, dict):
            continue
        when, value = parse_date(observation.get("date")), _decimal(observation.get("value"))
        if when is not None and value is not None:
            rows.append(_row(series_id, when, value))
    return rows


def parse_fredgraph_csv(data: bytes, series_id: str | None = None) -> list[EvidenceRow]:
    """Rows from a fredgraph CSV download (``observation_date,<ID>`` or ``DATE,<ID>``).

    Every series column is read; ``series_id`` keeps only that column.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParseError("FRED returned something that is not a CSV file") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or header[0].strip().lower() not in {"observation_date", "date"}:
        if text.lstrip().startswith("<"):
            raise ParseError("FRED returned a web page instead of a CSV file")
        raise ParseError("FRED returned a CSV file without a date column")
    columns = [name.strip().upper() for name in header[1:]]
    wanted = series_id.strip().upper() if series_id else None
    if wanted and wanted not in columns:
        raise ParseError(f"FRED's CSV file does not contain the series {wanted}")
    rows = []
    for record in reader:
        when = parse_date(record[0].strip()) if record else None
        if when is None:
            continue
        for name, cell in zip(columns, record[1:], strict=False):
            if wanted and name != wanted:
                continue
            value = _decimal(cell)
            if value is not None:
                rows.append(_row(name, when, value))
    return rows


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate_day in range(day.day, 0, -1):
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    return date(year, month, 1)  # pragma: no cover


def summarise_series(rows: list[EvidenceRow]) -> dict[str, Any]:
    """Latest value, change over 12 months, and a 36-month trend for a sparkline.

    The year-ago value is the last observation on or before the same date a year earlier
    (this works for daily, monthly and quarterly series). The trend keeps the last
    observation of each month over the 36 months up to the latest, as ``(ISO date, value)``.
    """
    points = sorted(
        (r.period_end, r.value) for r in rows if r.period_end is not None and r.value is not None
    )
    if not points:
        return {"series": None, "latest_value": None, "latest_date": None, "trend": []}
    series = next((r.series for r in rows if r.series), None)
    latest_date, latest_value = points[-1]
    year_ago_target = _months_before(latest_date, 12)
    earlier = [p for p in points if p[0] <= year_ago_target]
    year_ago = (
        earlier[-1] if earlier and year_ago_target - earlier[-1][0] <= timedelta(45) else None
    )
    change = pct = None
    if year_ago is not None:
        change = latest_value - year_ago[1]
        if year_ago[1] != 0:
            pct = (change * 100 / abs(year_ago[1])).quantize(Decimal("0.01"))
    start = _months_before(latest_date, 36)
    monthly: dict[tuple[int, int], tuple[date, Decimal]] = {}
    for when, value in points:
        if when > start:
            monthly[(when.year, when.month)] = (when, value)
    return {
        "series": series,
        "unit": series_unit(series) if series else "",
        "latest_value": number(latest_value),
        "latest_date": latest_date.isoformat(),
        "year_ago_value": number(year_ago[1]) if year_ago else None,
        "year_ago_date": year_ago[0].isoformat() if year_ago else None,
        "change_12m": number(change),
        "change_12m_pct": number(pct),
        "trend": [(when.isoformat(), number(value)) for when, value in monthly.values()],
    }

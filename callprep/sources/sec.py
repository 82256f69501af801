"""SEC EDGAR: company facts (XBRL financials), submissions (recent filings) and the ticker map.

Company facts, as the worker stores them
----------------------------------------
``parse_company_facts`` returns, for each of the five most recent fiscal years, one
``financial`` row per metric in ``METRICS`` (revenue, gross_profit, operating_income,
net_income, cash, long_term_debt), keyed ``"<metric>:<fiscal year end>"``. A metric the
company does not report for that year is still a row, with ``value=None`` and
``extra={"status": "not_reported", ...}`` — a missing figure is never shown as zero.

Ratios are separate ``financial`` rows with unit ``"percent"`` (rounded to 0.1), emitted only
when both inputs are reported: ``revenue_growth`` (against the previous fiscal year, which
may be a sixth, older year) and ``gross_margin``, ``operating_margin``, ``net_margin``.

How the raw facts are read (the data is awkward):

* ``fy``/``fp`` describe the filing, not the period, so periods come from ``start``/``end``.
* Annual flows are facts from an annual form (``ANNUAL_FORMS``) with a 350-380 day duration;
  quarterly and year-to-date durations, even inside a 10-K, are ignored.
* The same period is repeated in several filings (comparatives); per concept and period the
  latest ``filed`` copy wins, so restatements replace the original figure.
* Each metric has a chain of concepts (companies move between them over the years); for a
  given period the first concept in the chain that has a value wins.
* Fiscal year ends are the end dates of the annual flows. Balance-sheet metrics are instants
  reported in annual forms at exactly those dates.
* IFRS filers (``ifrs-full``) map to the same metrics; the unit is the company's reporting
  currency (the currency of its most recent annual revenue or profit figure).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .base import EvidenceRow, ParseError, clip, load_json, parse_date

SOURCE_FACTS = "sec-companyfacts"
SOURCE_SUBMISSIONS = "sec-submissions"
SOURCE_TICKERS = "sec-tickers"

ANNUAL_FORMS = frozenset({"10-K", "10-K/A", "20-F", "20-F/A", "40-F", "40-F/A", "10-KT"})
ANNUAL_DAYS = range(350, 381)
YEARS = 5

FLOW_METRICS: dict[str, tuple[str, ...]] = {
    "revenue": (
        "us-gaap:Revenues",
        "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
        "us-gaap:RevenueFromContractWithCustomerIncludingAssessedTax",
        "us-gaap:SalesRevenueNet",
        "us-gaap:SalesRevenueGoodsNet",
        "us-gaap:SalesRevenueServicesNet",
        "ifrs-full:Revenue",
        "ifrs-full:RevenueFromContractsWithCustomers",
    ),
    "gross_profit": ("us-gaap:GrossProfit", "ifrs-full:GrossProfit"),
    "operating_income": (
        "us-gaap:OperatingIncomeLoss",
        "ifrs-full:ProfitLossFromOperatingActivities",
    ),
    "net_income": (
        "us-gaap:NetIncomeLoss",
        "us-gaap:ProfitLoss",
        "ifrs-full:ProfitLossAttributableToOwnersOfParent",
        "ifrs-full:ProfitLoss",
    ),
}
BALANCE_METRICS: dict[str, tuple[str, ...]] = {
    "cash": (
        "us-gaap:CashAndCashEquivalentsAtCarryingValue",
        "us-gaap:CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents",
        "us-gaap:Cash",
        "ifrs-full:CashAndCashEquivalents",
    ),
    "long_term_debt": (
        "us-gaap:LongTermDebtNoncurrent",
        "us-gaap:LongTermDebtAndCapitalLeaseObligations",
        "us-gaap:LongTermDebt",
        "ifrs-full:NoncurrentPortionOfNoncurrentBorrowings",
        "ifrs-full:LongtermBorrowings",
    ),
}
METRICS = (*FLOW_METRICS, *BALANCE_METRICS)
METRIC_LABELS = {
    "revenue": "Revenue",
    "gross_profit": "Gross profit",
    "operating_income": "Operating income",
    "net_income": "Net income",
    "cash": "Cash and cash equivalents",
    "long_term_debt": "Long-term debt (non-current)",
    "revenue_growth": "Revenue growth",
    "gross_margin": "Gross margin",
    "operating_margin": "Operating margin",
    "net_margin": "Net margin",
}
MARGINS = {
    "gross_margin": "gross_profit",
    "operating_margin": "operating_income",
    "net_margin": "net_income",
}


@dataclass(frozen=True)
class Fact:
    concept: str
    unit: str
    value: Decimal
    start: date | None
    end: date
    form: str
    filed: date
    accn: str
    fy: Any = None
    fp: Any = None
    frame: str | None = None

    @property
    def days(self) -> int | None:
        return (self.end - self.start).days if self.start else None

    def newer_than(self, other: Fact) -> bool:
        # Latest filing wins; on the same day prefer the copy SEC chose for its frame.
        return (self.filed, self.frame is not None, self.accn) > (
            other.filed,
            other.frame is not None,
            other.accn,
        )


def parse_company_facts(data: bytes) -> list[EvidenceRow]:
    """Annual financials for the five most recent fiscal years (see the module docstring)."""
    doc = load_json(data, "SEC company facts")
    if not isinstance(doc, dict) or not isinstance(doc.get("facts"), dict):
        raise ParseError("SEC returned company data without any financial facts")
    cik = parse_cik(doc.get("cik"))
    facts = list(_iter_facts(doc["facts"]))
    currency = _reporting_currency(facts)
    facts = [f for f in facts if f.unit == currency]

    flows = {m: _merge_chain(chain, _annual_flows(facts)) for m, chain in FLOW_METRICS.items()}
    year_ends = sorted({end for by_end in flows.values() for end in by_end}, reverse=True)
    if not year_ends:
        year_ends = _report_ends(facts)
    instants = _annual_instants(facts, set(year_ends))
    balances = {m: _merge_chain(chain, instants) for m, chain in BALANCE_METRICS.items()}
    chosen = {**flows, **balances}

    rows: list[EvidenceRow] = []
    for index, end in enumerate(year_ends[:YEARS]):
        starts = [flows[m][end].start for m in flows if end in flows[m]]
        start = starts[0] if starts else None
        for metric in METRICS:
            fact = chosen[metric].get(end)
            rows.append(_metric_row(cik, metric, end, start, fact, currency))
        previous = year_ends[index + 1] if index + 1 < len(year_ends) else None
        rows.extend(_ratio_rows(cik, chosen, end, start, previous))
    return rows


def parse_cik(raw: Any) -> int:
    """A CIK given as an int, ``"320193"`` or ``"0000320193"`` (or ``"CIK0000320193"``)."""
    text = str(raw).strip().upper().removeprefix("CIK")
    if not text.isdigit():
        raise ParseError("SEC returned data without a valid company number (CIK)")
    return int(text)


def fiscal_year_of(end: date) -> int:
    """The fiscal year named after its end date; 52/53-week years ending in the first days
    of January belong to the previous year."""
    return end.year - 1 if end.month == 1 and end.day <= 7 else end.year


def _iter_facts(taxonomies: dict[str, Any]) -> Iterator[Fact]:
    wanted = {c for chain in (*FLOW_METRICS.values(), *BALANCE_METRICS.values()) for c in chain}
    for concept in wanted:
        taxonomy, name = concept.split(":")
        units = ((taxonomies.get(taxonomy) or {}).get(name) or {}).get("units") or {}
        for unit, points in units.items():
            if not (len(unit) == 3 and unit.isalpha() and unit.isupper()):
                continue  # currencies only: skip shares, USD/shares, pure ratios
            for point in points or ():
                fact = _fact(concept, unit, point)
                if fact is not None:
                    yield fact


def _fact(concept: str, unit: str, point: Any) -> Fact | None:
    if not isinstance(point, dict):
        return None
    end, filed = parse_date(point.get("end")), parse_date(point.get("filed"))
    raw = point.get("val")
    if end is None or filed is None or raw is None or isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return Fact(
        concept=concept,
        unit=unit,
        value=value,
        start=parse_date(point.get("start")),
        end=end,
        form=str(point.get("form") or ""),
        filed=filed,
        accn=str(point.get("accn") or ""),
        fy=point.get("fy"),
        fp=point.get("fp"),
        frame=point.get("frame"),
    )


def _reporting_currency(facts: list[Fact]) -> str:
    income = {c for m in ("revenue", "net_income") for c in FLOW_METRICS[m]}
    annual = [f for f in facts if f.concept in income and _is_annual_flow(f)] or facts
    if not annual:
        return "USD"
    latest = max(annual, key=lambda f: (f.end, f.filed, f.unit == "USD"))
    return latest.unit


def _is_annual_flow(fact: Fact) -> bool:
    return fact.form in ANNUAL_FORMS and fact.days is not None and fact.days in ANNUAL_DAYS


def _latest_by_end(facts: Iterable[Fact]) -> dict[str, dict[date, Fact]]:
    best: dict[str, dict[date, Fact]] = {}
    for fact in facts:
        per_end = best.setdefault(fact.concept, {})
        current = per_end.get(fact.end)
        if current is None or fact.newer_than(current):
            per_end[fact.end] = fact
    return best


def _annual_flows(facts: list[Fact]) -> dict[str, dict[date, Fact]]:
    return _latest_by_end(f for f in facts if _is_annual_flow(f))


def _annual_instants(facts: list[Fact], ends: set[date]) -> dict[str, dict[date, Fact]]:
    return _latest_by_end(
        f for f in facts if f.start is None and f.form in ANNUAL_FORMS and f.end in ends
    )


def _merge_chain(chain: tuple[str, ...], by_concept: dict[str, dict[date, Fact]]) -> dict:
    merged: dict[date, Fact] = {}
    for concept in chain:
        for end, fact in by_concept.get(concept, {}).items():
            merged.setdefault(end, fact)
    return merged


def _report_ends(facts: list[Fact]) -> list[date]:
    """Fallback when a company reports no income statement: each annual report's own date
    is the latest balance-sheet instant in it."""
    by_accn: dict[str, date] = {}
    for fact in facts:
        if fact.start is None and fact.form in ANNUAL_FORMS:
            by_accn[fact.accn] = max(fact.end, by_accn.get(fact.accn, fact.end))
    return sorted(set(by_accn.values()), reverse=True)


def filing_folder_url(cik: int, accession: str) -> str:
    return f"https://www.sec.gov/Archives/edgar/data/{cik}/{accession.replace('-', '')}/"


def company_url(cik: int, form: str = "10-K") -> str:
    return (
        "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany"
        f"&CIK={cik:010d}&type={form}&dateb=&owner=include&count=40"
    )


def _money(value: Decimal, unit: str) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.0f} M {unit}"
    return f"{value:,.0f} {unit}"


def _metric_row(
    cik: int, metric: str, end: date, start: date | None, fact: Fact | None, unit: str
) -> EvidenceRow:
    fy = fiscal_year_of(end)
    label = f"{METRIC_LABELS[metric]}, FY{fy}"
    is_balance = metric in BALANCE_METRICS
    common = {
        "kind": "financial",
        "source": SOURCE_FACTS,
        "key": f"{metric}:{end.isoformat()}",
        "label": label,
        "metric": metric,
        "unit": unit,
        "period_start": None if is_balance else start,
        "period_end": end,
    }
    when = f"at {end.isoformat()}" if is_balance else f"for the fiscal year ended {end.isoformat()}"
    if fact is None:
        return EvidenceRow(
            **common,
            url=company_url(cik),
            excerpt=f"{METRIC_LABELS[metric]} {when}: not reported in the company's XBRL data.",
            extra={"status": "not_reported", "fiscal_year": fy, "cik": cik},
        )
    return EvidenceRow(
        **{**common, "period_start": None if is_balance else fact.start},
        url=filing_folder_url(cik, fact.accn),
        concept=fact.concept,
        value=fact.value,
        excerpt=(
            f"{METRIC_LABELS[metric]} {when}: {_money(fact.value, unit)} "
            f"({fact.concept}, {fact.form} filed {fact.filed.isoformat()})."
        ),
        extra={
            "status": "reported",
            "fiscal_year": fy,
            "cik": cik,
            "accession": fact.accn,
            "form": fact.form,
            "filed": fact.filed.isoformat(),
            "frame": fact.frame,
        },
    )


def _percent(numerator: Decimal, denominator: Decimal) -> Decimal:
    return (numerator * 100 / denominator).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _ratio_rows(
    cik: int,
    chosen: dict[str, dict[date, Fact]],
    end: date,
    start: date | None,
    previous: date | None,
) -> list[EvidenceRow]:
    revenue = chosen["revenue"].get(end)
    if revenue is None or revenue.value == 0:
        return []
    fy = fiscal_year_of(end)
    computed: list[tuple[str, Decimal, dict[str, Any]]] = []
    prior = chosen["revenue"].get(previous) if previous else None
    if prior is not None and prior.value != 0 and 330 <= (end - previous).days <= 400:
        growth = _percent(revenue.value - prior.value, abs(prior.value))
        computed.append(("revenue_growth", growth, {"compared_with": previous.isoformat()}))
    for ratio, metric in MARGINS.items():
        part = chosen[metric].get(end)
        if part is not None:
            computed.append((ratio, _percent(part.value, revenue.value), {"numerator": metric}))
    rows = []
    for ratio, value, details in computed:
        rows.append(
            EvidenceRow(
                kind="financial",
                source=SOURCE_FACTS,
                key=f"{ratio}:{end.isoformat()}",
                label=f"{METRIC_LABELS[ratio]}, FY{fy}",
                metric=ratio,
                value=value,
                unit="percent",
                period_start=start,
                period_end=end,
                url=filing_folder_url(cik, revenue.accn),
                excerpt=(
                    f"{METRIC_LABELS[ratio]} for the fiscal year ended {end.isoformat()}: "
                    f"{value}% (computed from reported figures)."
                ),
                extra={"status": "computed", "fiscal_year": fy, "cik": cik, **details},
            )
        )
    return rows


# --- Submissions: company profile and recent filings -------------------------------------

FILING_FORMS = frozenset(
    {"10-K", "10-K/A", "10-KT", "10-Q", "10-Q/A", "8-K", "8-K/A", "20-F", "20-F/A", "6-K"}
    | {"40-F", "40-F/A"}
)
FORM_LABELS = {
    "10-K": "Annual report",
    "10-KT": "Transition report",
    "10-Q": "Quarterly report",
    "8-K": "Current report",
    "20-F": "Annual report (foreign issuer)",
    "40-F": "Annual report (Canadian issuer)",
    "6-K": "Current report (foreign issuer)",
}
MAX_FILINGS = 40

EIGHT_K_ITEMS = {
    "1.01": "Entry into a material agreement",
    "1.02": "Termination of a material agreement",
    "1.03": "Bankruptcy or receivership",
    "1.04": "Mine safety violation",
    "1.05": "Material cybersecurity incident",
    "2.01": "Completed an acquisition or disposal of assets",
    "2.02": "Results of operations and financial condition",
    "2.03": "New direct financial obligation",
    "2.04": "Event that accelerates a financial obligation",
    "2.05": "Costs of restructuring or exit activities",
    "2.06": "Material impairment",
    "3.01": "Notice of delisting or failure to meet listing rules",
    "3.02": "Unregistered sale of equity securities",
    "3.03": "Material change to the rights of security holders",
    "4.01": "Change of auditor",
    "4.02": "Prior financial statements should no longer be relied on",
    "5.01": "Change in control of the company",
    "5.02": "Departure or appointment of directors or officers",
    "5.03": "Change to articles, bylaws or fiscal year",
    "5.04": "Suspension of trading under employee benefit plans",
    "5.05": "Change to or waiver of the code of ethics",
    "5.06": "Change in shell company status",
    "5.07": "Shareholder vote results",
    "5.08": "Shareholder director nominations",
    "6.01": "Asset-backed securities information",
    "7.01": "Regulation FD disclosure",
    "8.01": "Other events",
    "9.01": "Financial statements and exhibits",
}

# EDGAR's own state and country codes (not ISO). US states use their postal codes; the
# rest is a subset of the countries where SEC filers commonly have their business address.
EDGAR_PLACES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": "U.S. Virgin Islands",
    "X1": "United States",
    "A0": "Alberta, Canada",
    "A1": "British Columbia, Canada",
    "A2": "Manitoba, Canada",
    "A3": "New Brunswick, Canada",
    "A4": "Newfoundland, Canada",
    "A5": "Nova Scotia, Canada",
    "A6": "Ontario, Canada",
    "A7": "Prince Edward Island, Canada",
    "A8": "Quebec, Canada",
    "A9": "Saskatchewan, Canada",
    "B0": "Yukon, Canada",
    "Z4": "Canada",
    "C1": "Argentina",
    "C3": "Australia",
    "C4": "Austria",
    "C5": "Bahamas",
    "C9": "Belgium",
    "D0": "Bermuda",
    "D5": "Brazil",
    "D8": "British Virgin Islands",
    "E9": "Cayman Islands",
    "F3": "Chile",
    "F4": "China",
    "F5": "Taiwan",
    "F8": "Colombia",
    "G4": "Cyprus",
    "G7": "Denmark",
    "H9": "Finland",
    "I0": "France",
    "2M": "Germany",
    "J1": "Gibraltar",
    "J3": "Greece",
    "Y7": "Guernsey",
    "K3": "Hong Kong",
    "K5": "Hungary",
    "K7": "India",
    "K8": "Indonesia",
    "L2": "Ireland",
    "Y8": "Isle of Man",
    "L3": "Israel",
    "L6": "Italy",
    "M0": "Japan",
    "Y9": "Jersey",
    "M5": "South Korea",
    "N4": "Luxembourg",
    "N5": "Macau",
    "N8": "Malaysia",
    "1T": "Marshall Islands",
    "O5": "Mexico",
    "O9": "Monaco",
    "P7": "Netherlands",
    "Q2": "New Zealand",
    "Q8": "Norway",
    "R1": "Panama",
    "R5": "Peru",
    "R6": "Philippines",
    "R9": "Poland",
    "S1": "Portugal",
    "1Z": "Russia",
    "T0": "Saudi Arabia",
    "U0": "Singapore",
    "T3": "South Africa",
    "U3": "Spain",
    "V7": "Sweden",
    "V8": "Switzerland",
    "W1": "Thailand",
    "W8": "Turkey",
    "C0": "United Arab Emirates",
    "X0": "United Kingdom",
    "X3": "Uruguay",
    "Q1": "Vietnam",
}


def place_name(code: str | None) -> str | None:
    """An EDGAR state/country code as a readable place; unknown codes come back unchanged."""
    if not code:
        return None
    return EDGAR_PLACES.get(code.strip().upper(), code)


def describe_items(items: str | list[str] | None) -> list[str]:
    """8-K item codes ("2.02,9.01") in plain language, unknown codes kept as "Item x.xx"."""
    if isinstance(items, str):
        codes = [c.strip() for c in items.split(",")]
    else:
        codes = [str(c).strip() for c in items or ()]
    return [EIGHT_K_ITEMS.get(code, f"Item {code}") for code in codes if code]


def _submissions_doc(data: bytes) -> dict[str, Any]:
    doc = load_json(data, "SEC submissions")
    if not isinstance(doc, dict) or "cik" not in doc:
        raise ParseError("SEC returned a filing history without a company number (CIK)")
    return doc


def company_profile(data: bytes) -> dict[str, Any]:
    """Who the company is, from the submissions file: name, CIK, industry, place, tickers."""
    doc = _submissions_doc(data)
    cik = parse_cik(doc.get("cik"))
    business = ((doc.get("addresses") or {}).get("business")) or {}
    code = business.get("stateOrCountry")
    return {
        "name": doc.get("name") or "",
        "cik": f"{cik:010d}",
        "sic": doc.get("sic") or "",
        "sic_description": doc.get("sicDescription") or "",
        "fiscal_year_end": doc.get("fiscalYearEnd") or "",
        "state_or_country_code": code or "",
        "state_or_country": place_name(code) or "",
        "city": (business.get("city") or "").title(),
        "former_names": [
            {
                "name": f.get("name", ""),
                "from": (f.get("from") or "")[:10],
                "to": (f.get("to") or "")[:10],
            }
            for f in doc.get("formerNames") or ()
            if isinstance(f, dict)
        ],
        "tickers": list(doc.get("tickers") or ()),
        "exchanges": [e for e in doc.get("exchanges") or () if e],
        "website": doc.get("website") or "",
    }


def _recent_filings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    recent = ((doc.get("filings") or {}).get("recent")) or {}
    if not isinstance(recent, dict):
        raise ParseError("SEC returned a filing history in an unexpected shape")
    columns = {k: v for k, v in recent.items() if isinstance(v, list)}
    if not columns:
        return []
    length = min(len(v) for v in columns.values())
    return [{name: values[i] for name, values in columns.items()} for i in range(length)]


def parse_submissions(data: bytes, *, limit: int = MAX_FILINGS) -> list[EvidenceRow]:
    """The most recent annual, quarterly and current reports as ``filing`` rows, newest first.

    ``key`` is the accession number; 8-K item codes are translated in ``extra["items"]``.
    """
    doc = _submissions_doc(data)
    cik = parse_cik(doc.get("cik"))
    name = doc.get("name") or f"CIK {cik}"
    filings = [f for f in _recent_filings(doc) if f.get("form") in FILING_FORMS]
    filings.sort(key=lambda f: str(f.get("filingDate") or ""), reverse=True)
    rows: list[EvidenceRow] = []
    for filing in filings[:limit]:
        accession = str(filing.get("accessionNumber") or "")
        filed = parse_date(filing.get("filingDate"))
        if not accession or filed is None:
            continue
        form = str(filing["form"])
        items = describe_items(filing.get("items"))
        kind_label = FORM_LABELS.get(form.removesuffix("/A"), form)
        if form.endswith("/A"):
            kind_label += " (amendment)"
        label = f"{form} filed {filed.isoformat()}"
        if items:
            label += ": " + "; ".join(items)
        document = str(filing.get("primaryDocument") or "")
        url = filing_folder_url(cik, accession) + document
        excerpt = f"{name} filed a {form} ({kind_label.lower()}) on {filed.isoformat()}."
        if items:
            excerpt += " Items: " + "; ".join(items) + "."
        rows.append(
            EvidenceRow(
                kind="filing",
                source=SOURCE_SUBMISSIONS,
                key=accession,
                label=label,
                period_end=parse_date(filing.get("reportDate")),
                url=url,
                excerpt=clip(excerpt),
                extra={
                    "form": form,
                    "form_label": kind_label,
                    "accession": accession,
                    "filed": filed.isoformat(),
                    "cik": cik,
                    "item_codes": [
                        c.strip() for c in str(filing.get("items") or "").split(",") if c.strip()
                    ],
                    "items": items,
                    "description": filing.get("primaryDocDescription") or "",
                },
            )
        )
    return rows


# --- company_tickers.json ---------------------------------------------------------------


def ticker_map(data: bytes) -> dict[str, str]:
    """TICKER -> 10-digit CIK from SEC's company_tickers.json."""
    doc = load_json(data, "SEC ticker list")
    entries = doc.values() if isinstance(doc, dict) else doc if isinstance(doc, list) else None
    if entries is None:
        raise ParseError("SEC returned a ticker list in an unexpected shape")
    result: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("ticker"):
            continue
        try:
            cik = parse_cik(entry.get("cik_str"))
        except ParseError:
            continue
        result.setdefault(str(entry["ticker"]).strip().upper(), f"{cik:010d}")
    return result


def parse_company_tickers(data: bytes) -> list[EvidenceRow]:
    """One ``reference`` row per ticker (key = ticker), used to look up a customer's CIK.

    These rows are lookup data, not evidence to cite; kind ``reference`` keeps them apart.
    """
    doc = load_json(data, "SEC ticker list")
    titles = {
        str(e.get("ticker", "")).strip().upper(): str(e.get("title") or "")
        for e in (doc.values() if isinstance(doc, dict) else doc)
        if isinstance(e, dict)
    }
    return [
        EvidenceRow(
            kind="reference",
            source=SOURCE_TICKERS,
            key=ticker,
            label=f"{titles.get(ticker) or ticker} ({ticker})",
            url=company_url(int(cik)),
            extra={"ticker": ticker, "cik": cik, "title": titles.get(ticker, "")},
        )
        for ticker, cik in ticker_map(data).items()
    ]

"""External evidence sources: one module per source, each a set of pure parsers.

``PARSERS`` maps a source name to a function ``bytes -> list[EvidenceRow]``. The worker
fetches the bytes (with timeouts, retries and rate limits) and upserts the rows by
``(row.source, row.key)``. ``fred-json`` needs the series id, which the observations API
does not repeat: call it as ``functools.partial(PARSERS["fred-json"], series_id=...)``.
"""

from __future__ import annotations

from .base import EvidenceRow, ParseError, Parser
from .fred import parse_fredgraph_csv, parse_observations_json
from .news import parse_feed, parse_gdelt
from .sec import parse_company_facts, parse_company_tickers, parse_submissions
from .worldbank import parse_indicators

PARSERS: dict[str, Parser] = {
    "sec-companyfacts": parse_company_facts,
    "sec-submissions": parse_submissions,
    "sec-tickers": parse_company_tickers,
    "fred-json": parse_observations_json,
    "fred-csv": parse_fredgraph_csv,
    "worldbank": parse_indicators,
    "feed": parse_feed,
    "gdelt": parse_gdelt,
}

__all__ = ["PARSERS", "EvidenceRow", "ParseError"]

"""The shape every evidence source shares: a parsed row of evidence, and a readable error.

Parsers in this package are pure functions from the bytes a source returned to a list of
``EvidenceRow``. They never touch the network or the database; the worker fetches the bytes
and upserts the rows by ``(source, key)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

EXCERPT_LIMIT = 500

KINDS = frozenset({"financial", "filing", "indicator", "news", "web", "reference"})


class ParseError(Exception):
    """A source answered with something we cannot read; the message is meant for a sales rep."""


@dataclass(frozen=True)
class EvidenceRow:
    """One piece of evidence with its provenance.

    ``key`` is stable across fetches of the same source, so storing rows is an idempotent
    upsert on ``(source, key)``. ``value`` is ``None`` when the source does not report the
    figure (``extra["status"] == "not_reported"``), never a made-up zero.
    """

    kind: str
    source: str
    key: str
    label: str
    url: str = ""
    metric: str | None = None
    series: str | None = None
    concept: str | None = None
    value: Decimal | None = None
    unit: str = ""
    period_start: date | None = None
    period_end: date | None = None
    excerpt: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown evidence kind {self.kind!r}")
        if len(self.excerpt) > EXCERPT_LIMIT:
            object.__setattr__(self, "excerpt", clip(self.excerpt))

    def to_json(self) -> dict[str, Any]:
        """Return a dict that ``json.dumps`` accepts: ISO dates, the value as a number."""
        end = self.period_end.isoformat() if self.period_end else None
        data: dict[str, Any] = {
            "kind": self.kind,
            "source": self.source,
            "key": self.key,
            "label": self.label,
            "metric": self.metric,
            "series": self.series,
            "concept": self.concept,
            "value": number(self.value),
            "unit": self.unit,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": end,
            "url": self.url,
            "excerpt": self.excerpt,
            "extra": json.loads(json.dumps(self.extra, default=str)),
        }
        if self.kind == "indicator":
            data["date"] = end
        return data


Parser = Callable[[bytes], list[EvidenceRow]]


def number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: an int when it is integral, else a float."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def clip(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """Collapse whitespace and cut ``text`` to ``limit`` characters on a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut + "…"


def load_json(data: bytes, source_name: str) -> Any:
    """Decode JSON bytes or raise a ParseError that names the source."""
    if not data or not data.strip():
        raise ParseError(f"{source_name} returned an empty response")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        head = data[:200].lstrip().lower()
        if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
            raise ParseError(
                f"{source_name} returned a web page instead of data (it may be rate-limiting "
                "us or down)"
            ) from None
        raise ParseError(f"{source_name} returned something that is not JSON") from None


def parse_date(text: Any) -> date | None:
    """An ISO ``YYYY-MM-DD`` (or longer ISO timestamp) as a date, else None."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None

"""The customer-focus meter: is this text about the customer, or about us?

A deliberately simple, explainable count — guidance for the writer, never a gate:

* customer signals: the customer's name (and its first word, e.g. "Acme"), the names of their
  people (the account's stakeholders), "they / their / them / theirs", and numbers (their
  figures: 12 %, $4.2m, 2025);
* our signals: "we / our / us / ours" and our product names, configured with the setting
  ``SALESPREP_OUR_PRODUCT_NAMES`` (a list of strings).

The score is the customer's share of all signals, 0 to 100. Under 30 words there is too little
text to judge.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

MIN_WORDS = 30
THEY = re.compile(r"\b(?:they|their|theirs|them|themselves)\b", re.IGNORECASE)
WE = re.compile(r"\b(?:we|our|ours|us|ourselves)\b", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.])[$€£]?\d[\d,.]*\s?(?:%|percent|[kmb]n?|bn)?\b", re.IGNORECASE)
# Company suffixes that say nothing about whether a sentence is about the customer.
LEGAL_WORDS = {"inc", "corp", "corporation", "co", "ltd", "llc", "plc", "gmbh", "ag", "sa", "the"}


def product_names() -> list[str]:
    names = getattr(settings, "SALESPREP_OUR_PRODUCT_NAMES", []) or []
    return [str(name).strip() for name in names if str(name).strip()]


def customer_terms(account_name: str, people: Iterable[str]) -> list[str]:
    """The words that name the customer: the account's name, its first word, their people."""
    terms: list[str] = []
    name = (account_name or "").strip()
    if name:
        terms.append(name)
        first = re.split(r"[\s,]+", name)[0]
        if len(first) > 2 and first.lower() not in LEGAL_WORDS:
            terms.append(first)
    for person in people:
        person = (person or "").strip()
        if not person:
            continue
        terms.append(person)
        parts = [p for p in re.split(r"\s+", person) if len(p) > 2]
        terms.extend(parts)
    seen: set[str] = set()
    unique = []
    for term in sorted(terms, key=len, reverse=True):
        if term.lower() not in seen:
            seen.add(term.lower())
            unique.append(term)
    return unique


def _terms_pattern(terms: Iterable[str]) -> re.Pattern | None:
    terms = [t for t in terms if t]
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Focus:
    score: int | None  # 0..100, None when there is too little text
    customer: dict[str, int]
    us: dict[str, int]
    words: int

    @property
    def label(self) -> str:
        if self.score is None:
            return "Too little text to judge"
        if self.score >= 70:
            return "About the customer"
        if self.score >= 40:
            return "Balanced"
        return "About us"

    @property
    def level(self) -> str:
        if self.score is None:
            return "none"
        return "good" if self.score >= 70 else "mixed" if self.score >= 40 else "low"

    def explanation(self) -> str:
        if self.score is None:
            return f"Write at least {MIN_WORDS} words for a focus reading."

        def part(counts: dict[str, int]) -> str:
            items = [f"{k} \u00d7{v}" for k, v in counts.items() if v]
            return ", ".join(items) if items else "none"

        return (
            f"{sum(self.customer.values())} mentions of the customer ({part(self.customer)}); "
            f"{sum(self.us.values())} of us ({part(self.us)})."
        )

    def as_dict(self) -> dict:
        return {"score": self.score, "customer": self.customer, "us": self.us, "words": self.words}

    @classmethod
    def from_dict(cls, data: dict | None) -> Focus:
        data = data or {}
        return cls(
            score=data.get("score"),
            customer=dict(data.get("customer") or {}),
            us=dict(data.get("us") or {}),
            words=int(data.get("words") or 0),
        )


def measure(text: str, *, terms: Iterable[str], words: int) -> Focus:
    """Count customer and us signals in the text.

    Counted paragraph by paragraph (no signal spans a blank line), with each paragraph's
    counts cached: an autosave of a long section recounts only the paragraph being typed.
    """
    terms_key, products_key = tuple(terms), tuple(product_names())
    totals: dict[str, int] = {}
    for chunk in (text or "").split("\n\n"):
        for name, n in _chunk_counts(chunk, terms_key, products_key):
            totals[name] = totals.get(name, 0) + n
    customer = {k: totals.get(k, 0) for k in CUSTOMER_SIGNALS if k in totals}
    us = {k: totals.get(k, 0) for k in US_SIGNALS if k in totals}
    total_customer, total_us = sum(customer.values()), sum(us.values())
    if words < MIN_WORDS or total_customer + total_us == 0:
        score = None
    else:
        score = round(100 * total_customer / (total_customer + total_us))
    return Focus(score=score, customer=customer, us=us, words=words)


CUSTOMER_SIGNALS = ("their name and people", "they/their", "numbers")
US_SIGNALS = ("our products", "we/our")


@functools.lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...]) -> re.Pattern | None:
    return _terms_pattern(terms)


@functools.lru_cache(maxsize=8192)
def _chunk_counts(
    text: str, terms: tuple[str, ...], products: tuple[str, ...]
) -> tuple[tuple[str, int], ...]:
    counts: list[tuple[str, int]] = []
    names = _pattern(terms)
    rest = text
    if names is not None:
        counts.append(("their name and people", len(names.findall(rest))))
        rest = names.sub(" ", rest)
    counts.append(("they/their", len(THEY.findall(rest))))
    counts.append(("numbers", len(NUMBER.findall(rest))))
    ours = _pattern(products)
    if ours is not None:
        counts.append(("our products", len(ours.findall(rest))))
        rest = ours.sub(" ", rest)
    counts.append(("we/our", len(WE.findall(rest))))
    return tuple(counts)

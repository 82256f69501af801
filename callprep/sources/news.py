"""News: RSS/Atom feeds (via feedparser) and the GDELT DOC 2.0 article list.

Rows are ``news`` rows keyed by the normalised article URL. Only the headline, outlet,
publication date and link are kept — never the article text. Duplicates are dropped by URL
(ignoring ``utm_*`` tracking parameters and fragments) and by near-identical headline
(ignoring case, punctuation, spacing and a trailing `` - Outlet``).
"""

from __future__ import annotations

import io
import re
import unicodedata
from calendar import timegm
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser

from .base import EvidenceRow, ParseError, clip, load_json

SOURCE_FEED = "feed"
SOURCE_GDELT = "gdelt"
DASHES = r"[|\-\u2013\u2014]"  # a hyphen, en dash, em dash or bar before an outlet name


def normalise_url(url: str) -> str:
    """The URL without fragment and tracking parameters, with a lower-case scheme and host."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in {"fbclid", "gclid"}
    ]
    path = parts.path or "/"
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query, doseq=True), "")
    )


def normalise_title(title: str, outlet: str = "") -> str:
    """A headline reduced to lower-case words, without a trailing " - Outlet" suffix."""
    text = unicodedata.normalize("NFKC", title).strip()
    if outlet:
        text = re.sub(rf"\s+{DASHES}\s+{re.escape(outlet.strip())}\s*$", "", text, flags=re.I)
    # A short capitalised trailing segment without digits reads as an outlet name.
    text = re.sub(rf"\s+{DASHES}\s+[A-Z][^|\-\u2013\u2014\d]{{1,39}}$", "", text)
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return " ".join(text.split())


def _dedupe(candidates: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen_urls: set[str] = set()
    seen_titles: set[str] = set()
    kept = []
    for item in candidates:
        url_key = normalise_url(item["url"])
        title_key = normalise_title(item["title"], item.get("outlet", ""))
        if url_key in seen_urls or (title_key and title_key in seen_titles):
            continue
        seen_urls.add(url_key)
        if title_key:
            seen_titles.add(title_key)
        kept.append({**item, "key": url_key})
    return kept


def _unique_newest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop duplicates keeping each story's first publication, then sort newest first."""
    oldest_first = sorted(items, key=lambda c: (c["published"] is None, c["published"] or 0))
    unique = _dedupe(oldest_first)
    return sorted(
        unique, key=lambda c: (c["published"] is not None, c["published"] or 0), reverse=True
    )


def _row(source: str, item: dict[str, Any]) -> EvidenceRow:
    published: datetime | None = item.get("published")
    day: date | None = published.date() if published else None
    outlet = item.get("outlet") or ""
    bits = [b for b in (outlet, day.isoformat() if day else "") if b]
    excerpt = item["title"] + (f" ({', '.join(bits)})" if bits else "")
    return EvidenceRow(
        kind="news",
        source=source,
        key=item["key"],
        label=clip(item["title"], 300),
        url=item["url"],
        period_end=day,
        excerpt=clip(excerpt),
        extra={
            "outlet": outlet,
            "published": published.isoformat() if published else None,
            **item.get("extra", {}),
        },
    )


def _entry_time(entry: Any) -> datetime | None:
    for field in ("published_parsed", "updated_parsed"):
        parsed = entry.get(field)
        if parsed:
            return datetime.fromtimestamp(timegm(parsed), tz=UTC)
    return None


def parse_feed(data: bytes) -> list[EvidenceRow]:
    """Headlines from an RSS or Atom feed, newest first, without duplicates."""
    if not data or not data.strip():
        raise ParseError("The news feed was empty")
    # Hand feedparser a stream: given bytes or a str it may treat them as a path or URL.
    parsed = feedparser.parse(io.BytesIO(data))
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        raise ParseError("The address did not return an RSS or Atom news feed")
    feed_title = (parsed.feed.get("title") or "").strip()
    candidates = []
    for entry in parsed.entries:
        url = (entry.get("link") or "").strip()
        title = " ".join((entry.get("title") or "").split())
        if not url or not title or urlsplit(url).scheme not in {"http", "https"}:
            continue
        source = entry.get("source") or {}
        outlet = (source.get("title") or "").strip() or feed_title
        candidates.append(
            {"url": url, "title": title, "outlet": outlet, "published": _entry_time(entry)}
        )
    return [_row(SOURCE_FEED, item) for item in _unique_newest_first(candidates)]


def _gdelt_time(text: Any) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_gdelt(data: bytes) -> list[EvidenceRow]:
    """Articles from GDELT's DOC 2.0 API (``mode=ArtList&format=json``)."""
    stripped = (data or b"").strip()
    if stripped in {b"", b"{}"}:
        return []
    if not stripped.startswith(b"{"):
        text = re.sub(r"<[^>]+>", " ", stripped[:300].decode("utf-8", "replace"))
        text = " ".join(text.split())
        raise ParseError(f"GDELT did not return articles: {text}" if text else "GDELT failed")
    doc = load_json(stripped, "GDELT")
    if not isinstance(doc, dict):
        raise ParseError("GDELT returned data in an unexpected shape")
    candidates = []
    for article in doc.get("articles") or []:
        if not isinstance(article, dict):
            continue
        url = str(article.get("url") or "").strip()
        title = " ".join(str(article.get("title") or "").split())
        if not url or not title or urlsplit(url).scheme not in {"http", "https"}:
            continue
        domain = str(article.get("domain") or urlsplit(url).hostname or "")
        candidates.append(
            {
                "url": url,
                "title": title,
                "outlet": domain,
                "published": _gdelt_time(article.get("seendate")),
                "extra": {
                    "domain": domain,
                    "language": article.get("language") or "",
                    "source_country": article.get("sourcecountry") or "",
                },
            }
        )
    return [_row(SOURCE_GDELT, item) for item in _unique_newest_first(candidates)]

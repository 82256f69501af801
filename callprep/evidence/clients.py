"""One client per source, all with the same shape: build the requests -> fetch (httpx, timeouts,
retries with exponential backoff and jitter for timeouts/429/5xx only, a rate limit shared
through Redis) -> parse with ``callprep.sources.PARSERS`` into ``EvidenceRow``s.

Each ``collect_<source>(account)`` returns a ``Collected`` (rows plus a note for the rep) or
raises ``SourceFailure`` (a readable reason; ``TransientFailure`` when trying again later may
help). They never touch the evidence tables; ``collect.py`` stores the rows.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote, urljoin

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import sitesettings
from callprep.sources import PARSERS, EvidenceRow, ParseError
from callprep.sources import fred as fred_source
from callprep.sources import sec as sec_source
from callprep.sources import website as website_source
from callprep.sources import worldbank as worldbank_source

from . import ratelimit
from .models import SeriesCache
from .replay import RECORDINGS, ReplayTransport

log = logging.getLogger(__name__)

MAX_BODY = 50_000_000
SEC_TICKERS_URL = "https://www.sec.gov/files/company_tickers.json"
SEC_SUBMISSIONS_URL = "https://data.sec.gov/submissions/CIK{cik:010d}.json"
SEC_FACTS_URL = "https://data.sec.gov/api/xbrl/companyfacts/CIK{cik:010d}.json"
FRED_API_URL = "https://api.stlouisfed.org/fred/series/observations"
FRED_CSV_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
WORLDBANK_URL = "https://api.worldbank.org/v2/country/{country}/indicator/{indicator}"
GDELT_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
# In replay mode the customer's website "resolves" to this public address (never contacted).
REPLAY_ADDRESS = "93.184.215.14"


class SourceFailure(Exception):
    """The source could not give us evidence; the message is for a sales rep."""


class TransientFailure(SourceFailure):
    """Timeouts, 429 or 5xx that outlasted our retries: trying again later may work."""


@dataclass
class Collected:
    rows: list[EvidenceRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        return "; ".join(n for n in self.notes if n)


def transport() -> httpx.BaseTransport | None:
    """The replay transport when ``EVIDENCE_TRANSPORT == "replay"``, else httpx's default."""
    if getattr(settings, "EVIDENCE_TRANSPORT", "live") == "replay":
        return ReplayTransport(
            getattr(settings, "EVIDENCE_REPLAY_DIR", None) or RECORDINGS,
            getattr(settings, "EVIDENCE_REPLAY_ROUTES", None),
        )
    return None


def is_replay() -> bool:
    return getattr(settings, "EVIDENCE_TRANSPORT", "live") == "replay"


def backoff_delay(attempt: int, *, base: float | None = None, cap: float = 30.0) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random."""
    base = getattr(settings, "EVIDENCE_BACKOFF_SECONDS", 1.0) if base is None else base
    delay = min(cap, base * (2**attempt))
    return delay / 2 + random.uniform(0, delay / 2)


@dataclass
class Fetcher:
    """Fetches for one source: declared headers, timeouts, the shared rate limit, retries."""

    name: str  # as a rep reads it: "SEC EDGAR"
    limit_key: str
    headers: dict[str, str] = field(default_factory=dict)
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    timeout: httpx.Timeout = field(
        default_factory=lambda: httpx.Timeout(20.0, connect=5.0, pool=5.0)
    )
    retries: int | None = None
    client: httpx.Client | None = None
    sleep: Callable[[float], None] = time.sleep

    def __enter__(self) -> Fetcher:
        self.client = httpx.Client(
            transport=transport(),
            headers={"Accept-Encoding": "gzip, deflate", **self.headers},
            timeout=self.timeout,
            follow_redirects=True,
            max_redirects=3,
        )
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.client is not None:
            self.client.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> bytes:
        assert self.client is not None, "use the fetcher as a context manager"
        retries = (
            getattr(settings, "EVIDENCE_FETCH_RETRIES", 2) if self.retries is None else self.retries
        )
        problem = ""
        for attempt in range(retries + 1):
            if attempt:
                self.sleep(backoff_delay(attempt - 1))
            try:
                ratelimit.acquire(self.limit_key)
            except ratelimit.RateLimitTimeout as exc:
                raise TransientFailure(f"{self.name} is busy right now ({exc})") from exc
            try:
                response = self.client.get(url, params=params)
            except httpx.TimeoutException:
                problem = "took too long to answer"
                continue
            except httpx.HTTPError as exc:
                raise SourceFailure(
                    f"Could not reach {self.name} ({exc.__class__.__name__})"
                ) from exc
            status = response.status_code
            if status in self.retry_statuses:
                problem = (
                    "is limiting our requests (429 Too Many Requests)"
                    if status == 429
                    else f"refused our requests ({status})"
                    if status == 403
                    else f"had a server error ({status})"
                )
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit() and int(retry_after) <= 10 and attempt < retries:
                    self.sleep(int(retry_after))
                continue
            if status == 404:
                raise SourceFailure(f"{self.name} has no data at this address (404)")
            if status >= 400:
                raise SourceFailure(f"{self.name} refused the request ({status})")
            if len(response.content) > MAX_BODY:
                raise SourceFailure(f"{self.name} sent more data than we read")
            return response.content
        tries = "once" if retries == 0 else f"{retries + 1} times"
        raise TransientFailure(f"{self.name} {problem} (tried {tries}); we will try again later")


def daily_copy(name: str, fmt: str, url: str, download: Callable[[], bytes]) -> SeriesCache:
    """Today's shared copy of a document, downloading it only if nobody has today."""
    today = timezone.localdate()
    cached = SeriesCache.objects.filter(name=name, day=today).first()
    if cached is not None:
        return cached
    body = download()
    try:
        with transaction.atomic():
            return SeriesCache.objects.create(name=name, day=today, fmt=fmt, url=url, body=body)
    except IntegrityError:  # another worker stored it first
        return SeriesCache.objects.get(name=name, day=today)


def parse(fmt: str, data: bytes, **kwargs: Any) -> list[EvidenceRow]:
    parser = PARSERS[fmt]
    return (partial(parser, **kwargs) if kwargs else parser)(bytes(data))


# --- SEC EDGAR ------------------------------------------------------------------------------


def sec_user_agent() -> str:
    """SEC's fair-access rules ask for a declared User-Agent with a contact e-mail."""
    explicit = sitesettings.get("SEC_USER_AGENT")
    email = sitesettings.get("SEC_CONTACT_EMAIL")
    if not explicit and not email and is_replay():
        return "SalesPrep demo (replayed recordings; nothing is sent to SEC)"
    return explicit or (f"SalesPrep evidence collector {email}" if email else "")


def sec_fetcher(user_agent: str | None = None) -> Fetcher:
    """The SEC client; ``user_agent`` only for the rate-limit benchmark, whose worker processes
    have no database to read the setting from."""
    return Fetcher(
        "SEC EDGAR",
        "sec",
        headers={"User-Agent": user_agent or sec_user_agent(), "Accept": "application/json"},
        # SEC answers 403 when a client goes over its limits: back off as for 429.
        retry_statuses=frozenset({403, 429, 500, 502, 503, 504}),
    )


def lookup_cik(fetch: Fetcher, ticker: str) -> int:
    copy = daily_copy(
        "sec:tickers", "sec-tickers", SEC_TICKERS_URL, lambda: fetch.get(SEC_TICKERS_URL)
    )
    try:
        ciks = sec_source.ticker_map(bytes(copy.body))
    except ParseError as exc:
        raise SourceFailure(str(exc)) from exc
    cik = ciks.get(ticker.strip().upper()) or ciks.get(ticker.strip().upper().replace(".", "-"))
    if cik is None:
        raise SourceFailure(
            f"SEC EDGAR lists no company with the ticker {ticker}: check the ticker, or enter the "
            "company's CIK on the account"
        )
    return int(cik)


def collect_sec(account) -> Collected:
    result = Collected()
    with sec_fetcher() as fetch:
        cik = int(account.cik) if account.cik else lookup_cik(fetch, account.ticker)
        submissions = fetch.get(SEC_SUBMISSIONS_URL.format(cik=cik))
        try:
            result.rows += parse("sec-submissions", submissions)
            profile = sec_source.company_profile(submissions)
        except ParseError as exc:
            raise SourceFailure(str(exc)) from exc
        result.rows.append(
            EvidenceRow(
                kind="reference",
                source="sec-submissions",
                key="profile",
                label=f"{profile['name']}: {profile['sic_description'] or 'SEC company profile'}",
                url=sec_source.company_url(cik),
                excerpt=(
                    f"{profile['name']} (CIK {profile['cik']}), SIC {profile['sic']} "
                    f"{profile['sic_description']}, based in {profile['state_or_country']}; "
                    f"fiscal year ends {profile['fiscal_year_end']}."
                ),
                extra=profile,
            )
        )
        try:
            facts = fetch.get(SEC_FACTS_URL.format(cik=cik))
        except SourceFailure as exc:
            if "404" not in str(exc):
                raise
            result.notes.append("no XBRL financial statements at SEC (filings only)")
        else:
            try:
                result.rows += parse("sec-companyfacts", facts)
            except ParseError as exc:
                raise SourceFailure(str(exc)) from exc
    years = len({r.period_end for r in result.rows if r.kind == "financial"})
    filings = sum(1 for r in result.rows if r.kind == "filing")
    result.notes.insert(0, f"{years} fiscal years of financials, {filings} recent filings")
    return result


# --- FRED -----------------------------------------------------------------------------------


def fred_fetcher() -> Fetcher:
    return Fetcher("FRED", "fred", headers={"User-Agent": "SalesPrep evidence collector"})


def _fred_download(fetch: Fetcher, series_id: str, since: date) -> SeriesCache:
    key = sitesettings.get("FRED_API_KEY")
    if key:
        params = {
            "series_id": series_id,
            "api_key": key,
            "file_type": "json",
            "observation_start": since.isoformat(),
        }
        public = f"{FRED_API_URL}?series_id={series_id}&file_type=json"
        return daily_copy(
            f"fred:{series_id}", "fred-json", public, lambda: fetch.get(FRED_API_URL, params)
        )
    params = {"id": series_id, "cosd": since.isoformat()}
    public = f"{FRED_CSV_URL}?id={series_id}"
    return daily_copy(
        f"fred:{series_id}", "fred-csv", public, lambda: fetch.get(FRED_CSV_URL, params)
    )


def monthly(rows: list[EvidenceRow], months: int = 37) -> list[EvidenceRow]:
    """The last observation of each month over the last ``months`` months (daily series such
    as DGS10 would otherwise keep thousands of rows)."""
    dated = sorted((r for r in rows if r.period_end), key=lambda r: r.period_end)
    if not dated:
        return []
    latest = dated[-1].period_end
    start = date(latest.year - (months // 12) - 1, latest.month, 1)
    by_month: dict[tuple[int, int], EvidenceRow] = {}
    for row in dated:
        if row.period_end >= start:
            by_month[(row.period_end.year, row.period_end.month)] = row
    return list(by_month.values())[-months:]


def collect_fred(account) -> Collected:
    result = Collected()
    if not sitesettings.get("FRED_API_KEY"):
        result.notes.append("no FRED key — using the CSV download")
    series = fred_source.series_for_naics(account.naics_code or "")
    since = timezone.localdate() - timedelta(days=4 * 366)
    missing: list[str] = []
    transient = False
    with fred_fetcher() as fetch:
        for series_id in series:
            try:
                copy = _fred_download(fetch, series_id, since)
                rows = parse(copy.fmt, copy.body, series_id=series_id)
            except TransientFailure:
                transient = True
                missing.append(series_id)
                continue
            except (SourceFailure, ParseError):
                missing.append(series_id)
                continue
            result.rows += monthly(rows)
    if not result.rows:
        cls = TransientFailure if transient else SourceFailure
        raise cls(f"FRED gave no data for {', '.join(series)}")
    result.notes.insert(0, f"{len(series) - len(missing)} series")
    if missing:
        result.notes.append(f"unavailable: {', '.join(missing)}")
    return result


# --- World Bank -----------------------------------------------------------------------------


def collect_worldbank(account) -> Collected:
    result = Collected()
    this_year = timezone.localdate().year
    missing: list[str] = []
    with Fetcher("The World Bank", "worldbank") as fetch:
        for indicator in worldbank_source.INDICATORS:
            url = WORLDBANK_URL.format(country=account.country.lower(), indicator=indicator)
            page: int | None = 1
            try:
                while page and page <= 5:
                    params = {
                        "format": "json",
                        "date": f"{this_year - 10}:{this_year}",
                        "per_page": 50,
                        "page": page,
                    }
                    data = fetch.get(url, params)
                    result.rows += parse("worldbank", data)
                    page = worldbank_source.next_page(data)
            except (SourceFailure, ParseError):
                missing.append(worldbank_source.INDICATORS[indicator])
    if not result.rows:
        raise SourceFailure(f"The World Bank has no indicators for {account.country_name}")
    if missing:
        result.notes.append(f"unavailable: {', '.join(missing)}")
    return result


# --- News -----------------------------------------------------------------------------------


def news_feeds(account) -> list[str]:
    """Feed addresses from ``EVIDENCE_NEWS_FEEDS``; ``{query}`` becomes the account's name."""
    feeds = sitesettings.get("EVIDENCE_NEWS_FEEDS") or []
    return [f.replace("{query}", quote(f'"{account.name}"')) for f in feeds]


def collect_news(account) -> Collected:
    result = Collected()
    problems: list[str] = []
    headers = {"User-Agent": "SalesPrep evidence collector"}
    with Fetcher("GDELT", "gdelt", headers=headers) as gdelt:
        params = {
            "query": f'"{account.name}"',
            "mode": "ArtList",
            "format": "json",
            "maxrecords": 25,
            "sort": "DateDesc",
            "timespan": "3months",
        }
        try:
            result.rows += parse("gdelt", gdelt.get(GDELT_URL, params))
        except (SourceFailure, ParseError) as exc:
            problems.append(str(exc))
    # The feeds' addresses are an admin's (the Settings page): fetched, like the customer's
    # website, only from public addresses, the name resolved and checked at each hop.
    for url in news_feeds(account):
        ratelimit.acquire("feed")
        try:
            page = website_source.fetch_public_page(
                url, content_types=website_source.FEED_TYPES, **public_fetch_options()
            )
            result.rows += parse("feed", page.body)
        except (website_source.UnsafeURL, website_source.FetchError) as exc:
            problems.append(f"The news feed: {exc}")
        except ParseError as exc:
            problems.append(str(exc))
    if problems and not result.rows:
        raise SourceFailure("; ".join(problems))
    result.notes.append(f"{len(result.rows)} articles")
    result.notes += problems
    return result


# --- The customer's website -----------------------------------------------------------------


def _replay_resolver(host: str, port: int) -> list[str]:
    return [REPLAY_ADDRESS]


def public_fetch_options() -> dict[str, Any]:
    """How ``fetch_public_page`` reaches the internet: for real, or the replayed recordings."""
    kwargs: dict[str, Any] = {"transport": transport()}
    if is_replay():
        kwargs["resolver"] = _replay_resolver
    return kwargs


def collect_website(account) -> Collected:
    kwargs = public_fetch_options()
    ratelimit.acquire("website")
    try:
        home = website_source.fetch_public_page(account.website, **kwargs)
    except (website_source.UnsafeURL, website_source.FetchError) as exc:
        raise SourceFailure(str(exc)) from exc
    result = Collected()
    about_url = urljoin(home.url, "/about")
    about_html = None
    ratelimit.acquire("website")
    try:
        about_html = website_source.fetch_public_page(about_url, **kwargs).body
    except (website_source.UnsafeURL, website_source.FetchError):
        result.notes.append("no about page")
    result.rows = website_source.parse_homepage(
        home.body, home.url, about_html=about_html, about_url=about_url if about_html else ""
    )
    return result


COLLECTORS: dict[str, Callable[[Any], Collected]] = {
    "sec": collect_sec,
    "fred": collect_fred,
    "worldbank": collect_worldbank,
    "news": collect_news,
    "website": collect_website,
}

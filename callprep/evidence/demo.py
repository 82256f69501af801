"""Evidence for the demo: the seeded fictional accounts, and starting their collection.

``recordings/`` holds a response, in each source's real format, for every account that
``callprep.demo`` seeds (tickers ZXNW, ZXHG and ZXTW at SEC; FRED series for each of their
industries; World Bank indicators for each non-US country; GDELT articles and the home and
about pages of each ``www.<slug>.example``). ``manage.py demo`` sets
``EVIDENCE_TRANSPORT = "replay"`` so the worker collects them with no network.

The recordings also keep a few companies that only the evidence tests create (Northwind
Robotics NWRB, Halvorsen Maritime HALV, Bluebird Clinics, Acme): those are test fixtures and
never appear in the demo.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from callprep.demo import DEMO_ACCOUNTS

from .models import CollectionRun, RunState, Trigger

# A finished run this recent, with no failed source, is good enough for a re-seed.
RECENT = timedelta(hours=24)


def demo_companies() -> list[dict[str, str]]:
    """The seeded demo accounts as ``Account`` field values (one source of truth: the seed)."""
    return [
        {
            "name": spec.name,
            "website": spec.website,
            "domain": spec.domain,
            "ticker": spec.ticker,
            "exchange": spec.exchange,
            "naics_code": spec.naics,
            "country": spec.country,
            "hq_city": spec.city,
        }
        for spec in DEMO_ACCOUNTS
    ]


DEMO_COMPANIES = demo_companies()


def needs_collection(account) -> bool:
    """False when a run is still open (the worker will finish it, or the sweep re-enqueues it)
    or a recent run ended without a failed source."""
    runs = CollectionRun.objects.filter(account=account)
    if runs.unfinished().exists():
        return False
    recent_ok = runs.filter(created_at__gte=timezone.now() - RECENT).exclude(
        sources__state=RunState.FAILED
    )
    return not recent_ok.exists()


def collect_demo_evidence(accounts: Iterable, *, only_if_needed: bool = False) -> list:
    """Start a collection run per account (or reuse the one in progress); the worker replays
    the recordings. With ``only_if_needed``, skip accounts whose evidence is fresh."""
    from .collect import start_collection

    return [
        start_collection(account, trigger=Trigger.DEMO)
        for account in accounts
        if not only_if_needed or needs_collection(account)
    ]

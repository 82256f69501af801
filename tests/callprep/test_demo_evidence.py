"""The demo seed collects evidence for every demo account, end to end, with a real worker."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from accounts.models import Account
from callprep.demo import content, load
from callprep.evidence import insights
from callprep.evidence import tasks as evidence_tasks
from callprep.evidence.models import CollectionRun, Evidence
from salesprep.celery import app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def replay(settings):
    """As ``manage.py demo`` runs: recorded responses, no SEC e-mail, no FRED key, no feeds."""
    settings.EVIDENCE_TRANSPORT = "replay"
    settings.EVIDENCE_REPLAY_ROUTES = []
    settings.SEC_CONTACT_EMAIL = ""
    settings.SEC_USER_AGENT = ""
    settings.FRED_API_KEY = ""
    settings.EVIDENCE_NEWS_FEEDS = []
    settings.EVIDENCE_TASK_RETRIES = 0
    # GDELT's one request per 5 seconds would make twelve accounts take a minute.
    settings.EVIDENCE_RATE_LIMITS = dict.fromkeys(
        ["sec", "fred", "gdelt", "worldbank", "website", "feed"]
    )
    return settings


@pytest.fixture
def celery_worker(replay):
    assert app.conf.broker_url.startswith("redis://"), "integration tests run on Redis"
    assert evidence_tasks.collect_source_task.name in app.tasks
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def wait_for_runs(count: int, timeout: float = 90.0) -> list[CollectionRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(CollectionRun.objects.prefetch_related("sources"))
        if len(runs) >= count and all(run.finished_at for run in runs):
            return runs
        time.sleep(0.2)
    unfinished = [str(s) for r in runs for s in r.sources.all() if s.state in ("queued", "running")]
    raise AssertionError(f"the demo runs did not finish: {unfinished}")


def test_seeding_the_demo_collects_every_accounts_evidence_from_the_recordings(celery_worker):
    load.seed()
    runs = wait_for_runs(len(content.read().accounts))

    assert len(runs) == 12
    for run in runs:
        for source in run.sources.all():
            assert source.state in ("succeeded", "skipped"), f"{run.account}: {source}"
            if source.state == "skipped":
                assert source.reason, f"{run.account}: {source.source} skipped without a reason"
        outcome = {s.source: s.state for s in run.sources.all()}
        # Every demo account has recorded news, a website and FRED series for its industry.
        assert outcome["fred"] == outcome["news"] == outcome["website"] == "succeeded"
        assert outcome["sec"] == ("succeeded" if run.account.ticker else "skipped")
        assert outcome["worldbank"] == ("skipped" if run.account.country == "US" else "succeeded")

    northwind = Account.objects.get(ticker="ZXNW")
    revenue = Evidence.objects.get(account=northwind, metric="revenue", period_end="2025-12-31")
    assert revenue.value == 4_120_000_000
    assert revenue.unit == "USD"
    assert {"cost_pressure"} <= {i.key for i in insights.insights_for(northwind)}
    helio = Account.objects.get(ticker="ZXHG")
    assert "financing_pressure" in {i.key for i in insights.insights_for(helio)}
    sakura = Account.objects.get(name__startswith="Sakura")
    assert "demand_pressure" in {i.key for i in insights.insights_for(sakura)}

    load.seed()  # seeding again right away starts no new collection
    assert CollectionRun.objects.count() == 12

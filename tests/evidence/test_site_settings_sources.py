"""Data-source settings saved on the settings screen are what the next collection uses: in this
process, and in a real Celery worker on Redis (tests/evidence/test_worker.py's setup)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.urls import reverse

from callprep.evidence import clients, collect
from callprep.evidence import tasks as evidence_tasks
from callprep.evidence.models import CollectionRun, Evidence
from salesprep.celery import app

FIXTURES = Path(__file__).resolve().parent.parent / "sources" / "fixtures"
KEY = "fedcba9876543210fedcba9876543210"
FEED = "https://feeds.harbor-journal.example/rss?q={query}"
SOURCES = reverse("site_settings:sources")

# FRED answers the observations API only when asked with KEY; its CSV download is down, so a
# collection succeeds only if it used the key. The feed exists only at FEED's host.
ROUTES = [
    {
        "host": "api.stlouisfed.org",
        "path": "/fred/series/observations",
        "query": {"api_key": KEY},
        "body": (FIXTURES / "fred-fedfunds.json").read_text(),
        "content_type": "application/json",
    },
    {"host": "fred.stlouisfed.org", "path": "*", "status": 500},
    {
        "host": "feeds.harbor-journal.example",
        "path": "/rss",
        "body": (FIXTURES / "feed-rss.xml").read_text(),
        "content_type": "application/rss+xml",
    },
]
PLANT_NEWS = "https://news.example.com/2024/10/northwind-plant"


@pytest.fixture
def saved_in_the_ui(client, ada):
    def save(**values):
        client.force_login(ada)
        form = {
            "SEC_CONTACT_EMAIL": "research@salesprep.example",
            "SEC_USER_AGENT": "",
            "FRED_API_KEY": "",
            "EVIDENCE_NEWS_FEEDS": "",
        }
        response = client.post(SOURCES, {**form, **values})
        assert response.status_code == 302, response.content.decode()

    return save


def test_the_fred_key_saved_in_the_ui_is_the_key_fred_is_asked_with(
    northwind, settings, saved_in_the_ui
):
    settings.EVIDENCE_REPLAY_ROUTES = ROUTES
    with pytest.raises(clients.SourceFailure, match="FRED gave no data"):
        clients.collect_fred(northwind)

    saved_in_the_ui(FRED_API_KEY=KEY)

    result = clients.collect_fred(northwind)
    assert result.rows and "no FRED key" not in result.note


def test_feeds_saved_in_the_ui_are_read_for_news(northwind, settings, saved_in_the_ui):
    settings.EVIDENCE_REPLAY_ROUTES = ROUTES
    saved_in_the_ui(EVIDENCE_NEWS_FEEDS=FEED)
    result = clients.collect_news(northwind)
    assert any(row.url.startswith(PLANT_NEWS) for row in result.rows)


def test_sec_is_no_longer_skipped_once_the_contact_e_mail_is_saved_in_the_ui(
    northwind, settings, saved_in_the_ui
):
    settings.EVIDENCE_TRANSPORT = "live"  # nothing is fetched: only the skip is decided here
    settings.SEC_CONTACT_EMAIL = ""
    assert collect.skip_reason(northwind, "sec").startswith("no SEC contact e-mail configured")
    saved_in_the_ui(SEC_CONTACT_EMAIL="research@northwind.example")
    assert collect.skip_reason(northwind, "sec") == ""


# --- In the worker -----------------------------------------------------------------------------


@pytest.fixture
def celery_worker():
    assert app.conf.broker_url.startswith("redis://"), "integration tests run on Redis"
    assert evidence_tasks.collect_source_task.name in app.tasks
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def finished(run: CollectionRun, timeout: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished_at is not None:
            return {s.source: s.state for s in run.sources.all()}
        time.sleep(0.1)
    raise AssertionError(f"run did not finish: {[str(s) for s in run.sources.all()]}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_next_collection_in_the_worker_uses_the_settings_saved_in_the_ui(
    celery_worker, northwind, settings, saved_in_the_ui
):
    settings.EVIDENCE_REPLAY_ROUTES = ROUTES
    with transaction.atomic():
        before = collect.start_collection(northwind)
    assert finished(before)["fred"] == "failed"  # no key: the CSV download, which is down
    news = Evidence.objects.filter(account=northwind, url__startswith=PLANT_NEWS)
    assert not news.exists()

    saved_in_the_ui(FRED_API_KEY=KEY, EVIDENCE_NEWS_FEEDS=FEED)
    with transaction.atomic():
        after = collect.start_collection(northwind)

    states = finished(after)
    assert states["fred"] == "succeeded" and states["news"] == "succeeded"
    assert news.exists()

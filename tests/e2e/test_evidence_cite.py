"""A rep opens a brief, watches evidence arrive from a real Celery worker (replayed sources),
cites a revenue figure into "Financial condition" and sees the footnote with its source."""

from __future__ import annotations

import re

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from callprep.briefs.models import Brief, BriefSection
from callprep.evidence.models import Citation, CollectionRun
from salesprep.celery import app
from tests.accounts.conftest import east, make_call  # noqa: F401
from tests.evidence.conftest import northwind, replay  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVED = re.compile(r"Saved at \d\d:\d\d:\d\d")


@pytest.fixture
def celery_worker(replay):  # noqa: F811
    assert app.conf.broker_url.startswith("redis://"), "integration tests run on Redis"
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def test_a_rep_watches_evidence_arrive_and_cites_revenue_into_financial_condition(
    page,
    login_as,
    live_server,
    alice,
    northwind,  # noqa: F811
    make_call,  # noqa: F811
    celery_worker,
):
    call = make_call(northwind, title="Visit at Northwind")
    login_as(alice)
    page.goto(f"{live_server.url}/briefs/call/{call.pk}/start/")
    page.get_by_role("button", name="Start a new brief").click()

    # The new brief started a collection; the panel shows its progress and then the evidence.
    panel = page.locator("#evidence-panel")
    expect(panel).to_be_visible()
    brief = Brief.objects.get(call=call)
    run = CollectionRun.objects.get(account=northwind)
    assert run.trigger == "brief"
    revenue = panel.locator("#evidence-financial_condition .evidence-item").filter(
        has_text="Revenue, FY2024"
    )
    expect(revenue).to_be_visible(timeout=30_000)
    expect(panel.locator(".run-summary")).to_contain_text("Collected")
    expect(panel.locator(".source-run[data-source='sec'] .source-state")).to_have_text("Succeeded")

    # Write a sentence in "Financial condition", then cite the revenue figure at the cursor.
    card = page.locator("#section-financial_condition")
    text = card.get_by_label("Text")
    text.fill("Revenue reached 726 M USD in fiscal 2024")
    expect(card.locator(".autosave-status")).to_have_text(SAVED)
    text.click()
    page.keyboard.press("End")
    revenue.get_by_role("button", name=re.compile("^Cite Revenue, FY2024")).click()

    expect(text).to_have_value(re.compile(r"fiscal 2024 \[\^c\d+\]$"))
    citation = Citation.objects.get(brief_id=brief.pk)
    assert citation.section_key == "financial_condition"
    expect(card.locator(".autosave-status")).to_have_text(SAVED)
    footnotes = card.locator(".preview .footnotes")
    expect(footnotes).to_contain_text("SEC EDGAR company facts")
    expect(footnotes).to_contain_text("726 M USD")
    expect(card.locator(".preview sup.footnote-ref")).to_have_text("1")

    # Stored, and still there after a reload (rendered at save time).
    stored = BriefSection.objects.get(brief=brief, key="financial_condition")
    assert stored.text.endswith(f"[^c{citation.pk}]")
    page.reload()
    footnote = page.locator("#section-financial_condition .preview .footnotes li")
    expect(footnote).to_contain_text("Revenue, FY2024: 726 M USD")
    expect(footnote.locator("a.footnote-link")).to_have_attribute("rel", "noopener noreferrer")
    assert page.console_errors == []

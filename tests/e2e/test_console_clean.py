"""Every page of the three journeys, with JavaScript on, leaves the browser's console clean.

On the seeded demo, as the rep, the executive and the manager: sign in through the form, open
every kind of page their links reach (breadth first, one page of each kind), and on the pages
where htmx does its work, do that work — autosave in the editor and on a section's own page,
cite from the editor and from a brief's evidence page, add a stakeholder on its stand-alone
page, filter the review queue, filter and sort the dashboard and go back. The browser must log
no error, no warning, no CSP violation (``securitypolicyviolation``, see conftest) and no
uncaught exception; and every form must do what its button says.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from decimal import Decimal
from urllib.parse import urldefrag, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from accounts.models import Account, Contact
from callprep.briefs.models import Brief, BriefSection, BriefStatus
from callprep.demo import load
from callprep.evidence.models import Evidence
from tests.test_demo_crawl import shape

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVED = re.compile(r"Saved at \d\d:\d\d:\d\d")
PAGE_LIMIT = 80  # per user; each kind of page once
SKIP = ("/static/", "/media/", "/auth/logout/", "/admin/")
DOWNLOADS = re.compile(r"(\.csv|\.ics|/csv/?)$")


@pytest.fixture
def seeded():
    load.seed()


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/auth/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(load.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def links_on(page) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "a[href], [hx-get]",
        "els => els.map(e => e.getAttribute('href') || e.getAttribute('hx-get'))",
    )
    found = []
    for href in hrefs:
        link, _ = urldefrag((href or "").strip())
        if link.startswith("/") and not link.startswith("//") and not link.startswith(SKIP):
            found.append(link)
    return found


def visit_every_kind_of_page(page, base: str) -> list[str]:
    """Open one page of each kind the user's links reach; the paths visited."""
    shapes: set = set()
    visited: list[str] = []
    queue = deque(["/"])
    while queue and len(visited) < PAGE_LIMIT:
        link = queue.popleft()
        if shape(link) in shapes or DOWNLOADS.search(urlsplit(link).path):
            continue
        shapes.add(shape(link))
        try:
            response = page.goto(base + link, wait_until="networkidle")
        except PlaywrightError as exc:
            if "Download is starting" in str(exc):
                continue  # an export: nothing for the console to say
            raise
        visited.append(link)
        assert response is not None and response.status == 200, f"{link}: {response}"
        if "text/html" in response.headers.get("content-type", ""):
            queue.extend(links_on(page))
    return visited


def assert_clean(page, who: str) -> None:
    assert page.console_problems == [], f"{who}:\n" + "\n".join(page.console_problems)


def test_the_rep_s_pages_and_forms_leave_the_console_clean(seeded, live_server, new_context):
    base = live_server.url
    page = new_context("rep").new_page()
    sign_in(page, base, "rep")
    visited = visit_every_kind_of_page(page, base)
    assert any(path.startswith("/briefs/") for path in visited), visited

    brief = (
        Brief.objects.filter(call__owner__username="rep")
        .filter(status__in=[BriefStatus.DRAFT, BriefStatus.CHANGES_REQUESTED])
        .order_by("pk")
        .first()
    )
    assert brief is not None, "the demo gives the rep a brief to write"
    for metric, label, day, value in (
        ("revenue", "Revenue, FY2024", "2024-06-30", "726000000"),
        ("revenue", "Revenue, FY2023", "2023-06-30", "655000000"),
    ):
        Evidence.objects.get_or_create(
            account=brief.call.account,
            source="sec-companyfacts",
            key=f"{metric}:{day}",
            defaults={
                "collector": "sec",
                "kind": "financial",
                "label": label,
                "metric": metric,
                "value": Decimal(value),
                "unit": "USD",
                "period_end": dt.date.fromisoformat(day),
                "retrieved_at": timezone.now(),
            },
        )

    # The editor: autosave (state badge, overview and meter move out of band), then cite.
    page.goto(base + brief.get_edit_url(), wait_until="networkidle")
    card = page.locator("#section-business_challenges")
    text = card.get_by_label("Text", exact=True)
    text.fill(text.input_value() + "\n\nTheir COO wants the backlog shipped by Q3.")
    expect(card.locator(".autosave-status")).to_have_text(SAVED)
    text.click()
    page.keyboard.press("Control+End")
    cite = page.locator("#evidence-panel .cite-form button").first
    cite.click()
    expect(page.locator("#citation-result .citation-snippet")).to_be_visible()
    page.wait_for_load_state("networkidle")

    # A section's own page: autosave there updates only what that page shows.
    page.goto(base + f"/briefs/{brief.pk}/sections/industry_dynamics/", wait_until="networkidle")
    own = page.get_by_label("Text", exact=True)
    own.fill(own.input_value() + " Their two largest peers merged last year.")
    expect(page.locator("#status-industry_dynamics")).to_have_text(SAVED)
    assert BriefSection.objects.get(brief=brief, key="industry_dynamics").text.endswith(
        "merged last year."
    )

    # The brief's evidence page: "Cite" writes the marker into the section and goes back.
    cited_before = BriefSection.objects.get(brief=brief, key="financial_condition").text
    evidence = Evidence.objects.filter(account=brief.call.account).count()
    assert evidence
    page.goto(base + f"/evidence/account/{brief.call.account_id}/?brief={brief.pk}")
    page.locator("#evidence-financial_condition .cite-form button").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Brief for "))
    after = BriefSection.objects.get(brief=brief, key="financial_condition").text
    assert re.search(r"\[\^c\d+\]$", after) and after != cited_before

    # The stand-alone "Add stakeholder" page: its button adds the stakeholder.
    account = Account.objects.filter(owner__username="rep").first()
    page.goto(base + f"/accounts/{account.pk}/stakeholders/new/", wait_until="networkidle")
    page.get_by_label("Name").fill("Priya Raman")
    page.get_by_label("Title").fill("Head of procurement")
    page.get_by_role("button", name="Add stakeholder").click()
    expect(page.get_by_text("Stakeholder Priya Raman added.")).to_be_visible()
    expect(page.locator("#stakeholders")).to_contain_text("Priya Raman")
    assert urlsplit(page.url).path == account.get_absolute_url()

    # On the account page the same form opens in place and adds with htmx.
    page.locator("#stakeholders").get_by_role("link", name="Add stakeholder").click()
    form = page.locator("#contact-form-new")
    form.get_by_label("Name").fill("Jonas Berg")
    form.get_by_role("button", name="Add stakeholder").click()
    expect(page.locator("#stakeholders")).to_contain_text("Jonas Berg added.")
    assert set(
        Contact.objects.filter(account=account, name__in=["Priya Raman", "Jonas Berg"]).values_list(
            "name", flat=True
        )
    ) == {"Priya Raman", "Jonas Berg"}

    assert_clean(page, "rep")


def test_the_stand_alone_stakeholder_page_works_without_javascript(
    seeded, live_server, new_context
):
    base = live_server.url
    page = new_context("no-js", javascript=False).new_page()
    sign_in(page, base, "rep")
    account = Account.objects.filter(owner__username="rep").first()
    page.goto(f"{base}/accounts/{account.pk}/stakeholders/new/")
    page.get_by_label("Name").fill("Mei Tanaka")
    page.get_by_role("button", name="Add stakeholder").click()
    expect(page.get_by_text("Stakeholder Mei Tanaka added.")).to_be_visible()
    assert Contact.objects.filter(account=account, name="Mei Tanaka").exists()


def test_the_executive_s_pages_and_queue_filter_leave_the_console_clean(
    seeded, live_server, new_context
):
    base = live_server.url
    page = new_context("executive").new_page()
    sign_in(page, base, "vp")
    visited = visit_every_kind_of_page(page, base)
    assert any(path.startswith("/reviews/") for path in visited), visited

    page.goto(base + "/reviews/", wait_until="networkidle")
    count = page.get_by_test_id("queue-count")
    everyone = count.inner_text()
    team = page.get_by_label("Team")
    team.select_option(index=1)
    expect(page).to_have_url(re.compile(r"team=\d+"))
    page.wait_for_load_state("networkidle")
    team.select_option(index=0)
    expect(count).to_have_text(everyone)
    page.locator("tr.queue-row").first.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Review the brief"))
    page.wait_for_load_state("networkidle")

    assert_clean(page, "executive")


def test_the_manager_s_pages_filters_and_history_leave_the_console_clean(
    seeded, live_server, new_context
):
    base = live_server.url
    page = new_context("manager").new_page()
    sign_in(page, base, "manager")
    visited = visit_every_kind_of_page(page, base)
    assert any(path.startswith("/dashboard/") for path in visited), visited

    page.goto(base + "/dashboard/", wait_until="networkidle")
    page.get_by_label("Call kind").select_option(index=1)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"kind=\w+"))
    page.wait_for_load_state("networkidle")
    page.locator("#dashboard-body th a").first.click()
    expect(page).to_have_url(re.compile(r"sort="))
    page.wait_for_load_state("networkidle")
    page.go_back()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Prep dashboard")
    page.wait_for_load_state("networkidle")

    assert_clean(page, "manager")

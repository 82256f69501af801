"""The three journeys as one story, in three browsers at once, with a real worker on Redis.

alice (rep, East) schedules an executive visit at Northwind Robotics (ticker NWRB, whose SEC
filings, FRED series, news and website are in the replay recordings), starts its brief, watches
the worker collect the evidence, writes every required section with autosave, cites a revenue
figure and submits. victor (executive) finds it in his review queue and sends it back with a
comment on one section; alice sees the notification, fixes the section and resubmits; victor
approves through the sniff test and marks himself briefed. mallory (manages East) then sees the
call on her prep dashboard as approved on time, with its lead time, and drills down to it.

Each person has a browser context of their own; a failing run keeps a screenshot of every open
page, plus the snapshots taken at the end of each step (see tests/e2e/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import zoneinfo

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from callprep.briefs.models import Brief, BriefSection, BriefStatus
from callprep.evidence.models import Citation, CollectionRun
from callprep.models import Call
from callprep.review.models import ExecutiveRead, Notification, NotificationKind
from salesprep.celery import app
from tests.accounts.conftest import east  # noqa: F401
from tests.e2e.conftest import sign_in
from tests.evidence.conftest import northwind, replay  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

SAVED = re.compile(r"Saved at \d\d:\d\d:\d\d")
# Generous: a shared 2-core CI machine may run other suites at the same time.
WAIT = 30_000
WORKER_WAIT = 90_000

TITLE = "Northwind executive visit"
ZONE = "America/New_York"

CHALLENGES = (
    "Northwind Robotics told us their order backlog grew faster than their plants can ship, "
    "and their COO Dana Reyes said on-time delivery fell to 81 % last quarter. Their annual "
    "report names three priorities: ship the backlog, lift gross margin by two points and "
    "cut warehouse robot downtime. Their board expects a plan at the next investor day. They "
    "run two planning systems since the Ostrava acquisition and reconcile them by hand every "
    "week. {said: Dana Reyes, COO, 3 March}"
)
INDUSTRY = (
    "Their market for warehouse automation is consolidating: two of their peers merged last "
    "year and a low-cost Asian entrant undercuts their mid-range arms by 15 %. Customers ask "
    "for robots as a service, which moves their revenue from one-off sales to subscriptions. "
    "New EU machinery rules apply from 2027 and their products need fresh safety files. Their "
    "largest peers already sell service contracts that bundle uptime guarantees. {inference}"
)
FINANCIALS = (
    "Their revenue keeps growing while margins are under pressure: their latest 10-K shows "
    "higher inventory and longer receivables, so cash is tied up in work in progress. They "
    "fund expansion with a revolving credit line, which makes their CFO careful with large "
    "up-front payments; a subscription price suits them better. Their filings stress supply "
    "chain risk and the cost of warranty repairs. Their revenue reached 726 M USD in fiscal 2024"
)
BUYING = (
    "Their COO Dana Reyes is the economic buyer and signs above 250k USD. Their head of "
    "operations excellence, Sam Ortiz, is our champion and evaluates with two plant managers. "
    "Their procurement runs a short RFP, then a pilot in one plant, then a contract signed by "
    "the COO. Their budget for the pilot is approved; the rollout needs board approval in Q3."
)
VALUE = (
    "We help them ship the backlog: predictive maintenance on their own robots cuts downtime, "
    "which their plants measure as lost units per shift. One planning view across both systems "
    "ends their weekly manual reconciliation. If on-time delivery returns to 95 %, their "
    "backlog turns into revenue two months earlier, worth roughly 40 M USD of cash to them. "
    "Every point ties to a priority they named in their annual report."
)
FIX = (
    "\n\nTied to their numbers: at their stated 726 M USD revenue, each point of on-time "
    "delivery is worth about 7 M USD of revenue shipped a quarter earlier."
)

DEAL = {
    "Pain": ("On-time delivery fell to 81 % with a growing backlog.", "Customer said",
             "Dana Reyes, 3 March"),
    "Metrics": ("On-time delivery rate; units lost per shift to downtime.", "Customer said",
                "Dana Reyes, 3 March"),
    "Economic buyer": ("Dana Reyes, COO", "Public source", "https://northwind-robotics.example/about"),
    "Decision process": ("RFP, pilot in one plant, COO signs, board for the rollout.",
                         "Our inference", ""),
    "Champion": ("Sam Ortiz, head of operations excellence", "Customer said", "Sam Ortiz, 5 March"),
    "Compelling event": ("Investor day in June: the board wants the backlog plan.", "Customer said",
                         "Dana Reyes, 3 March"),
}  # fmt: skip
PLAN = {
    "Objectives": "Agree the scope and success measure of a one-plant pilot.",
    "Agreed outcome": "A date for the pilot kickoff and its sponsor.",
    "Agenda": "Their priorities in their words\nWhat the pilot would prove\nNext steps",
    "Questions to ask": "What does the board need to see in June?\nWho else must say yes?",
    "Executive: what to say": "We ran the same pilot for two of their peers within a quarter.",
    "Executive: what to ask": "What would make this the board's favourite project this year?",
}


def eventually(predicate, timeout: float = 60.0) -> bool:
    """Poll a database condition the worker makes true (no fixed sleep decides the outcome)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def lead_words(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


@pytest.fixture
def celery_worker(replay):  # noqa: F811
    """A real Celery worker consuming from Redis, in this process (so it sees the settings)."""
    assert app.conf.broker_url.startswith("redis://"), "integration tests run on Redis"
    assert not app.conf.task_always_eager
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def write_prose(page, key: str, text: str, *, percent: str):
    """Type a prose section, wait for autosave, and check it counts as complete."""
    card = page.locator(f"#section-{key}")
    card.get_by_label("Text", exact=True).fill(text)
    expect(card.locator(".autosave-status")).to_have_text(SAVED, timeout=WAIT)
    expect(card.locator(".state-badge")).to_have_text("Complete", timeout=WAIT)
    expect(page.get_by_test_id("completeness")).to_have_text(percent, timeout=WAIT)
    return card


def test_a_brief_is_prepared_reviewed_approved_and_seen_on_the_dashboard(
    live_server,
    new_context,
    checkpoint,
    alice,
    victor,
    mallory,
    northwind,  # noqa: F811
    celery_worker,
):
    base = live_server.url

    # --- 1. The rep prepares the brief ---------------------------------------------------------
    rep = new_context("rep").new_page()
    sign_in(rep, base, alice)
    expect(rep.get_by_role("heading", level=1)).to_have_text("My calls")

    # She schedules the executive visit, five days and 45 minutes ahead in New York.
    rep.get_by_role("link", name="Schedule a call").click()
    zone = zoneinfo.ZoneInfo(ZONE)
    starts = (timezone.now() + dt.timedelta(days=5, minutes=45)).astimezone(zone)
    rep.get_by_label("Account").select_option(label="Northwind Robotics Inc.")
    rep.get_by_label("Title").fill(TITLE)
    rep.get_by_label("Kind").select_option(label="Executive visit")
    rep.get_by_label("Starts").fill(f"{starts:%Y-%m-%dT%H:%M}")
    rep.get_by_label("Ends").fill(f"{starts + dt.timedelta(hours=1):%Y-%m-%dT%H:%M}")
    rep.get_by_label("Time zone").select_option(ZONE)
    rep.get_by_label("Executive").select_option(label=str(victor))
    rep.get_by_label("Purpose").fill("Agree a one-plant pilot for their backlog.")
    rep.get_by_role("button", name="Schedule call").click()
    expect(rep.get_by_role("heading", level=1)).to_have_text(TITLE)
    call = Call.objects.get(title=TITLE)
    assert (call.account, call.owner, call.executive) == (northwind, alice, victor)

    # She starts the brief; that starts an evidence collection the worker picks up.
    rep.get_by_role("link", name="Start the brief").click()
    rep.get_by_role("button", name="Start a new brief").click()
    expect(rep.get_by_role("heading", level=1)).to_have_text(f"Brief for {TITLE}")
    expect(rep.get_by_test_id("brief-status")).to_have_text("Draft")
    completeness = rep.get_by_test_id("completeness")
    expect(completeness).to_have_text("0%")
    brief = Brief.objects.get(call=call)
    assert CollectionRun.objects.get(account=northwind).trigger == "brief"

    # The panel polls until the worker has replayed the sources, then shows the evidence.
    panel = rep.locator("#evidence-panel")
    revenue = panel.locator("#evidence-financial_condition .evidence-item").filter(
        has_text="Revenue, FY2024"
    )
    expect(revenue).to_be_visible(timeout=WORKER_WAIT)
    expect(panel.locator(".run-summary")).to_contain_text("Collected", timeout=WAIT)
    expect(panel.locator(".source-run[data-source='sec'] .source-state")).to_have_text("Succeeded")

    # Every required section, each autosaved; completeness rises by one section at a time.
    write_prose(rep, "business_challenges", CHALLENGES, percent="14%")
    write_prose(rep, "industry_dynamics", INDUSTRY, percent="29%")
    financial = write_prose(rep, "financial_condition", FINANCIALS, percent="43%")

    # Cite the revenue figure at the end of the last sentence: a footnote with its source.
    text = financial.get_by_label("Text", exact=True)
    text.click()
    rep.keyboard.press("Control+End")
    revenue.get_by_role("button", name=re.compile("^Cite Revenue, FY2024")).click()
    expect(text).to_have_value(re.compile(r"fiscal 2024 \[\^c\d+\]$"), timeout=WAIT)
    expect(financial.locator(".autosave-status")).to_have_text(SAVED, timeout=WAIT)
    expect(financial.locator(".preview .footnotes")).to_contain_text(
        "SEC EDGAR company facts", timeout=WAIT
    )
    citation = Citation.objects.get(brief_id=brief.pk)
    assert citation.section_key == "financial_condition"

    write_prose(rep, "buying_process", BUYING, percent="57%")
    write_prose(rep, "value_hypothesis", VALUE, percent="71%")

    deal = rep.locator("#section-deal_check")
    for label, (claim, how, who) in DEAL.items():
        group = deal.get_by_role("group", name=label, exact=True)
        group.get_by_label(label, exact=True).fill(claim)
        group.get_by_label("How we know").select_option(label=how)
        if who:
            group.get_by_label("Who and when, or the link").fill(who)
    deal.get_by_label("We have met the economic buyer").check()
    expect(deal.locator(".autosave-status")).to_have_text(SAVED, timeout=WAIT)
    expect(deal.locator(".state-badge")).to_have_text("Complete", timeout=WAIT)
    expect(deal.get_by_text("No red flags")).to_be_visible()
    expect(completeness).to_have_text("86%", timeout=WAIT)

    plan = rep.locator("#section-call_plan")
    for label, value in PLAN.items():
        plan.get_by_label(label, exact=True).fill(value)
    expect(plan.locator(".autosave-status")).to_have_text(SAVED, timeout=WAIT)
    expect(plan.locator(".state-badge")).to_have_text("Complete", timeout=WAIT)
    expect(completeness).to_have_text("100%", timeout=WAIT)

    rep.get_by_role("button", name="Submit for review").click()
    expect(rep.get_by_text("Brief submitted for review.")).to_be_visible()
    expect(rep.get_by_test_id("brief-status")).to_have_text("Submitted")
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.SUBMITTED
    stored = BriefSection.objects.get(brief=brief, key="financial_condition").text
    assert stored.endswith(f"[^c{citation.pk}]")
    checkpoint("rep-submitted")

    # --- 2. The executive sends it back once, then approves -----------------------------------
    executive = new_context("executive").new_page()
    sign_in(executive, base, victor)
    nav = executive.get_by_role("navigation", name="Main")
    queue_link = nav.get_by_role("link", name=re.compile("^Review queue"))
    expect(queue_link.locator(".nav-count")).to_have_text("1")
    queue_link.click()
    expect(executive.get_by_test_id("queue-count")).to_have_text("1 brief waiting for your review.")
    row = executive.locator("tr.queue-row").filter(has_text=TITLE)
    expect(row).to_contain_text("Northwind Robotics Inc.")
    expect(row).to_contain_text("100%")
    row.get_by_role("link", name="Review").click()
    expect(executive.get_by_role("heading", level=1)).to_have_text(f"Review the brief for {TITLE}")
    executive.get_by_label("What needs to change, overall").fill("Nearly there.")
    executive.get_by_label("Comment on Value hypothesis").fill(
        "Put a number on it: what is one point of on-time delivery worth to them?"
    )
    executive.get_by_role("button", name="Request changes").click()
    expect(executive.get_by_text("Changes requested; the rep has been notified.")).to_be_visible()
    expect(executive.get_by_test_id("queue-count")).to_have_text(
        "0 briefs waiting for your review."
    )
    checkpoint("executive-requested-changes")

    # The rep comes back to her calls: the brief is marked, and a notification waits for her.
    rep.get_by_role("navigation", name="Main").get_by_role("link", name="My calls").click()
    soon = rep.get_by_role("region", name="Next 14 days")
    expect(soon.locator("tr").filter(has_text=TITLE)).to_contain_text("Changes requested")
    menu = rep.locator(".user-menu")
    expect(menu.locator(".nav-count")).to_have_text("1")
    menu.get_by_role("link", name=re.compile("^Notifications")).click()
    rep.get_by_role("button", name=f"Changes requested: {TITLE}").click()

    # The notification opens the editor, with the comment on the section it is about.
    expect(rep.get_by_role("heading", level=1)).to_have_text(f"Brief for {TITLE}")
    expect(rep.get_by_test_id("brief-status")).to_have_text("Changes requested")
    value = rep.locator("#section-value_hypothesis")
    expect(value.locator(".comment-threads")).to_contain_text("Put a number on it")
    value_text = value.get_by_label("Text", exact=True)
    value_text.fill(value_text.input_value() + FIX)
    expect(value.locator(".autosave-status")).to_have_text(SAVED, timeout=WAIT)
    expect(completeness).to_have_text("100%")
    value.get_by_role("button", name="Resolve").click()
    expect(rep.get_by_text("Comment resolved.")).to_be_visible()
    rep.get_by_role("button", name="Submit for review").click()
    expect(rep.get_by_text("Brief submitted for review.")).to_be_visible()
    expect(rep.get_by_test_id("brief-status")).to_have_text("Submitted")
    assert BriefSection.objects.get(brief=brief, key="value_hypothesis").text.endswith(
        "a quarter earlier."
    )

    # The worker e-mailed the rep the change request, once, and recorded that it did.
    def change_mails():
        return [m.to for m in mail.outbox if m.subject.startswith("[SalesPrep] Changes requested")]

    assert eventually(lambda: change_mails() != []), "the worker sent no e-mail"
    assert change_mails() == [[alice.email]]
    request = Notification.objects.get(recipient=alice, kind=NotificationKind.CHANGES_REQUESTED)
    assert request.emailed_at is not None
    checkpoint("rep-resubmitted")

    # The executive answers the sniff test, approves, and marks himself briefed.
    executive.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("^Review queue")
    ).click()
    row = executive.locator("tr.queue-row").filter(has_text=TITLE)
    row.get_by_role("link", name="Review").click()
    questions = executive.locator("fieldset.sniff-question")
    expect(questions).to_have_count(5)
    for i in range(5):
        questions.nth(i).get_by_label("Yes").check()
    executive.get_by_role("button", name="Approve").click()
    expect(executive.get_by_text("Brief approved (version 1).")).to_be_visible()
    expect(executive.get_by_test_id("brief-status")).to_have_text("Approved")
    executive.get_by_role("button", name="Mark as briefed").click()
    expect(executive.get_by_test_id("briefed")).to_contain_text("(version 1)")
    assert ExecutiveRead.objects.filter(brief=brief, user=victor).exists()

    brief.refresh_from_db()
    call.refresh_from_db()
    assert brief.status == BriefStatus.APPROVED
    hours = (call.starts_at - brief.approved_at).total_seconds() / 3600
    assert 5 * 24 - 72 < hours < 5 * 24 + 1  # approved well ahead: ~5 days before the call
    checkpoint("executive-approved")

    # --- 3. The manager sees it on the prep dashboard ----------------------------------------
    manager = new_context("manager").new_page()
    sign_in(manager, base, mallory)
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Prep dashboard")
    expect(manager.get_by_test_id("call-count")).to_have_text("1")
    expect(manager.get_by_test_id("on-time-share")).to_have_text("100%")
    expect(manager.get_by_test_id("lead-median")).to_have_text(lead_words(hours))
    expect(manager.get_by_test_id("lead-median")).to_have_text(re.compile(r"^[45]\.\d days$"))
    expect(manager.get_by_test_id("exec-read-share")).to_have_text("100%")
    expect(manager.get_by_test_id("completeness")).to_have_text("100%")
    expect(manager.get_by_test_id("overdue-count")).to_have_text("0")
    alice_row = manager.locator("tr[data-rep='alice']")
    expect(alice_row.locator("td").first).to_have_text("1")

    # In the next 7 days, the one call is in the "Approved" column.
    upcoming = manager.locator("table.chart-data").filter(has_text="Upcoming calls by brief state")
    week = upcoming.get_by_role("row", name=re.compile("^Next 7 days"))
    expect(week.locator("td")).to_have_text(["0", "0", "0", "0", "1"])

    # The on-time share drills down to the call, approved on time with its lead time.
    manager.get_by_test_id("on-time-share").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Brief approved by its due time")
    drill = manager.locator(f"tr[data-call='{call.pk}']")
    expect(drill.get_by_role("link", name=TITLE)).to_be_visible()
    expect(drill).to_contain_text("Approved")
    expect(drill.locator(".badge-ok")).to_have_text("On time")
    expect(drill).to_contain_text(lead_words(hours))
    expect(manager.get_by_test_id("drill-scope")).to_contain_text("1 call")
    checkpoint("manager-dashboard")

    # No page of the story logged a script error, a warning or a CSP violation.
    for who, page in (("rep", rep), ("executive", executive), ("manager", manager)):
        assert page.console_problems == [], who

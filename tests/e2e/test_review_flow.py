"""The review loop in a browser: submit, review in the queue and the executive view, request
changes on one section, fix and resubmit, approve through the sniff test, mark as briefed, and
print the executive view to at most two PDF pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from callprep.briefs import services
from callprep.briefs.models import Brief, BriefStatus
from callprep.review.models import ExecutiveRead
from tests.accounts.conftest import acme, dana, east, make_call  # noqa: F401
from tests.briefs.fixtures import call  # noqa: F401
from tests.review.conftest import fill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVED = re.compile(r"Saved at \d\d:\d\d:\d\d")


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def switch_to(page, login_as, user):
    page.context.clear_cookies()
    return login_as(user)


def test_a_brief_is_reviewed_sent_back_fixed_approved_and_read(
    request, page, login_as, alice, victor, live_server
):
    brief = services.start_brief(request.getfixturevalue("call"), by=alice)
    brief.call.contacts.add(request.getfixturevalue("dana"))
    fill(brief, alice)
    base = live_server.url

    # The rep submits.
    login_as(alice)
    page.goto(base + brief.get_edit_url())
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Brief submitted for review.")).to_be_visible()
    expect(page.get_by_test_id("brief-status")).to_have_text("Submitted")

    # The executive opens the queue and reads the executive view.
    switch_to(page, login_as, victor)
    page.goto(base + "/briefs/reviews/")
    expect(page.get_by_test_id("queue-count")).to_have_text("1 brief waiting for your review.")
    page.get_by_role("link", name="Executive visit at Acme").click()
    expect(page.get_by_role("heading", name="Why we are going")).to_be_visible()
    expect(page.locator(".exec-people")).to_contain_text("Dana Buyer")

    # … and requests changes on one section.
    page.get_by_role("link", name="Review", exact=True).click()
    page.get_by_label("Comment on Financial condition").fill("Add their debt and cash.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.get_by_text("Changes requested; the rep has been notified.")).to_be_visible()
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.CHANGES_REQUESTED

    # The rep sees the comment on that section, fixes it, and submits again.
    switch_to(page, login_as, alice)
    page.goto(base + brief.get_edit_url())
    card = page.locator("#section-financial_condition")
    expect(card.locator(".comment-threads")).to_contain_text("Add their debt and cash.")
    text = card.get_by_label("Text")
    text.fill(text.input_value() + "\n\nLong-term debt is 1.2 bn USD; cash covers 9 months.")
    expect(card.locator(".autosave-status")).to_have_text(SAVED)
    card.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("Comment resolved.")).to_be_visible()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("brief-status")).to_have_text("Submitted")

    # The executive approves through the checklist and marks the brief as read.
    switch_to(page, login_as, victor)
    page.goto(base + "/briefs/reviews/")
    page.get_by_role("link", name="Review", exact=True).click()
    questions = page.locator("fieldset.sniff-question")
    expect(questions).to_have_count(5)
    for i in range(5):
        questions.nth(i).get_by_label("Yes").check()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Brief approved (version 1).")).to_be_visible()
    expect(page.get_by_test_id("brief-status")).to_have_text("Approved")
    page.get_by_role("button", name="Mark as briefed").click()
    expect(page.get_by_test_id("briefed")).to_contain_text("(version 1)")
    assert ExecutiveRead.objects.filter(brief=brief, user=victor).exists()

    # The executive view prints to at most two pages.
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    assert 1 <= pdf_pages(pdf) <= 2
    assert page.console_errors == []

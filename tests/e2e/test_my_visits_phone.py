"""In a browser: My visits on a phone does not scroll sideways, and the first keystroke in an
approved brief asks before it sends the brief back to review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from callprep import workflow
from callprep.briefs import services
from callprep.briefs.models import Brief, BriefStatus
from callprep.review.models import Notification
from tests.accounts.conftest import acme, dana, east, make_call  # noqa: F401
from tests.briefs.fixtures import call  # noqa: F401
from tests.review.conftest import YES, fill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_my_visits_fits_a_phone_without_scrolling_sideways(
    request,
    page,
    login_as,
    alice,
    victor,
    acme,  # noqa: F811
    make_call,  # noqa: F811
):
    long_title = "Executive visit: the whole supply-chain and finance transformation roadmap"
    for days, zone in ((2, "America/Argentina/Cordoba"), (6, "Europe/Amsterdam")):
        c = make_call(acme, executive=victor, days=days, title=long_title, time_zone=zone)
        brief = services.start_brief(c, by=alice, collect_evidence=False)
        fill(brief, alice)
        workflow.submit_brief(brief, by=alice)
    page.set_viewport_size(PHONE)
    login_as(victor)
    expect(page).to_have_url(re.compile(r"/visits/$"))
    expect(page.get_by_test_id("visit")).to_have_count(2)
    expect(page.get_by_test_id("call-time").first).to_contain_text("(America/Argentina/Cordoba)")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.get_by_test_id("visit").first.get_by_role("link", name="Review", exact=True).click()
    expect(page).to_have_url(re.compile(r"/briefs/\d+/review/$"))


def test_the_first_keystroke_in_an_approved_brief_asks_before_reopening_it(
    request, page, login_as, alice, victor, live_server
):
    brief = services.start_brief(request.getfixturevalue("call"), by=alice)
    fill(brief, alice)
    workflow.submit_brief(brief, by=alice)
    workflow.approve_brief(brief, by=victor, answers=YES)
    login_as(alice)
    page.goto(f"{live_server.url}/briefs/{brief.pk}/edit/")
    expect(page.get_by_test_id("reopen-warning")).to_contain_text("Victor will be told")
    expect(page.locator("input[data-reopen-checkbox]").first).to_be_hidden()  # JS asks instead
    text = page.locator("#text-value_hypothesis")
    before = text.input_value()

    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    text.click()
    page.keyboard.type("Z")
    expect(text).to_have_value(before)  # cancelled: nothing typed, nothing saved
    assert asked and "sends it back to review" in asked[0]
    page.wait_for_timeout(1500)
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.APPROVED

    page.once("dialog", lambda d: d.accept())
    page.keyboard.type(" Their auditors agree.")
    expect(page.locator("#status-value_hypothesis")).to_have_text(re.compile(r"Saved at"))
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.SUBMITTED
    told = Notification.objects.get(recipient=victor, kind="reopened")
    assert "Changed: Value hypothesis." in told.body

"""A manager watches preparation improve: a brief approved now moves the on-time share and the
lead time on the prep dashboard."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account, Team
from callprep.briefs.models import BriefStatus
from callprep.review.models import SNIFF_TEST
from callprep.workflow import approve_brief
from tests.dashboard.conftest import add_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sees_a_newly_approved_brief_change_the_on_time_share_and_lead_time(
    page, login_as, live_server, alice, mallory, victor
):
    now = timezone.now().replace(second=0, microsecond=0)
    acme = Account.objects.create(
        name="Acme Fictional", owner=alice, team=Team.objects.get(name="East")
    )
    # Approved 72 hours before its call: on time. And a call that was due without a brief.
    add_call(acme, now - dt.timedelta(days=3), title="Early bird", brief=BriefStatus.APPROVED,
             complete=7, approved_at=now - dt.timedelta(days=6))  # fmt: skip
    add_call(acme, now - dt.timedelta(days=2), title="Unprepared")
    # In review: its call is in five days, so approving it now is on time, 120 h ahead.
    upcoming = add_call(acme, now + dt.timedelta(days=5), title="Board visit", executive=victor,
                        brief=BriefStatus.SUBMITTED, complete=7)  # fmt: skip

    login_as(mallory)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prep dashboard")
    expect(page.get_by_test_id("on-time-share")).to_have_text("50%")
    expect(page.get_by_test_id("lead-median")).to_have_text("3.0 days")
    expect(page.get_by_role("img", name="Lead time: approval to call")).to_be_visible()

    approve_brief(
        upcoming.brief,
        by=victor,
        answers={q.key: {"answer": "yes"} for q in SNIFF_TEST},
    )

    # Refresh through the filter form (htmx swaps the body in place).
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("on-time-share")).to_have_text("67%")
    expect(page.get_by_test_id("lead-median")).to_have_text("4.0 days")

    # The number drills down to the calls behind it.
    page.get_by_test_id("on-time-share").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Brief approved by its due time")
    expect(page.get_by_role("link", name="Board visit")).to_be_visible()
    expect(page.get_by_role("link", name="Early bird")).to_be_visible()
    assert page.console_errors == []

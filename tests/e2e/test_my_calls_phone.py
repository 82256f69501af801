"""In a browser: My calls on a phone is a stack of cards that never scrolls sideways, each card
showing the call's title, its time in the call's own zone, the account and the brief's state;
on a desktop it stays a table."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from callprep.briefs import services
from tests.accounts.conftest import acme, east, make_call  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

LONG_TITLE = "Executive visit: the whole supply-chain and finance transformation roadmap review"

# For every element given, how far its right edge reaches; and, for every scrolling wrapper of
# the page, how much wider its content is than the box that shows it.
RIGHT_EDGES = "els => els.map(e => e.getBoundingClientRect().right)"
OVERFLOW = """() => Array.from(document.querySelectorAll('.table-scroll, table'))
  .map(e => e.scrollWidth - e.clientWidth)"""


@pytest.fixture
def calls(alice, victor, acme, make_call):  # noqa: F811
    soon = make_call(
        acme, executive=victor, days=2, title=LONG_TITLE, time_zone="America/Argentina/Cordoba"
    )
    services.start_brief(soon, by=alice, collect_evidence=False)
    later = make_call(acme, days=20, title="Pilot scope and terms", time_zone="Europe/Amsterdam")
    past = make_call(acme, days=-3, title="First discovery", time_zone="Asia/Kolkata")
    return soon, later, past


def test_my_calls_is_stacked_cards_on_a_phone(page, login_as, alice, calls):
    page.set_viewport_size(PHONE)
    login_as(alice)
    expect(page).to_have_url(re.compile(r"/calls/mine/$"))
    rows = page.get_by_test_id("call-row")
    expect(rows).to_have_count(3)

    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert max(page.evaluate(OVERFLOW)) <= 0, "a table or its wrapper scrolls sideways"
    expect(page.locator("table.call-table thead").first).not_to_be_in_viewport()

    first = rows.first
    expect(first.get_by_role("link", name=LONG_TITLE)).to_be_visible()
    expect(first.get_by_test_id("call-time")).to_contain_text("(America/Argentina/Cordoba)")
    expect(first.get_by_role("link", name="Acme Fictional Corp")).to_be_visible()
    expect(first.get_by_test_id("brief-cell")).to_contain_text("Draft")
    expect(rows.nth(1).get_by_test_id("brief-cell")).to_contain_text("Not started")

    # Everything a card shows lies inside the screen's width.
    for row in (rows.nth(i) for i in range(3)):
        edges = row.locator("td, td a, td .badge").evaluate_all(RIGHT_EDGES)
        assert max(edges) <= PHONE["width"], edges

    # The title leads the card, above its time; the cells say what they are (from the template).
    title_box = first.locator("td.stacked-title").bounding_box()
    time_box = first.get_by_test_id("call-time").bounding_box()
    assert title_box["y"] < time_box["y"]
    label = first.get_by_test_id("brief-cell").evaluate(
        "e => getComputedStyle(e, '::before').content"
    )
    assert label == '"Brief: "'


def test_my_calls_stays_a_table_on_a_desktop(page, login_as, alice, calls):
    page.set_viewport_size(DESKTOP)
    login_as(alice)
    expect(page).to_have_url(re.compile(r"/calls/mine/$"))
    expect(page.get_by_role("columnheader", name="Brief").first).to_be_visible()
    rows = page.get_by_test_id("call-row")
    expect(rows).to_have_count(3)
    assert rows.first.evaluate("e => getComputedStyle(e).display") == "table-row"
    label = rows.first.get_by_test_id("brief-cell").evaluate(
        "e => getComputedStyle(e, '::before').content"
    )
    assert label == "none"
    # One row per call: the time, title, account and brief side by side on one line.
    tops = rows.first.locator("td").evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1, tops

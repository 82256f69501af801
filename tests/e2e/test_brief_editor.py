"""A rep writes the brief with autosave, sees completeness rise, and merges a conflict."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from callprep.briefs import services
from callprep.briefs.models import BriefSection
from tests.accounts.conftest import acme, dana, east, make_call  # noqa: F401
from tests.briefs.fixtures import LONG_CHALLENGES, call  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVED = re.compile(r"Saved at \d\d:\d\d:\d\d")


def stored_text(brief, key="business_challenges") -> str:
    return BriefSection.objects.get(brief=brief, key=key).text


def test_a_rep_writes_with_autosave_and_merges_a_conflict_without_losing_text(
    request, page, browser_context, login_as, alice, live_server
):
    brief = services.start_brief(request.getfixturevalue("call"), by=alice)
    login_as(alice)
    editor_url = f"{live_server.url}{brief.get_edit_url()}"
    page.goto(editor_url)
    completeness = page.get_by_test_id("completeness")
    expect(completeness).to_have_text("0%")

    # Write the first section: autosave kicks in by itself, and completeness rises.
    card = page.locator("#section-business_challenges")
    card.get_by_label("Text").fill(LONG_CHALLENGES)
    expect(card.locator(".autosave-status")).to_have_text(SAVED)
    expect(completeness).to_have_text("14%")
    expect(card.locator(".state-badge")).to_have_text("Complete")
    expect(card.locator(".preview")).to_contain_text("Customer said — Dana Buyer, 12 May")

    # A second section: still autosaved, completeness rises again.
    industry = page.locator("#section-industry_dynamics")
    industry.get_by_label("Text").fill(" ".join(["Their market consolidates."] * 20))
    expect(industry.locator(".autosave-status")).to_have_text(SAVED)
    expect(completeness).to_have_text("29%")
    assert stored_text(brief, "industry_dynamics").startswith("Their market consolidates.")

    # A second tab opens the same brief and saves the first section before this tab does.
    other = browser_context.new_page()
    other.goto(editor_url)
    other_card = other.locator("#section-business_challenges")
    other_card.get_by_label("Text").fill(LONG_CHALLENGES + "\n\nAdded in the second tab.")
    expect(other_card.locator(".autosave-status")).to_have_text(SAVED)
    other.close()

    # This tab, still on the older version, edits too: the save is refused and both texts
    # are shown side by side.
    card.get_by_label("Text").fill(LONG_CHALLENGES + "\n\nAdded in the first tab.")
    expect(card.locator(".conflict-banner")).to_contain_text("saved this section")
    expect(card.get_by_test_id("stored-text")).to_have_value(re.compile("second tab"))
    expect(card.get_by_test_id("your-text")).to_have_value(re.compile("first tab"))
    assert stored_text(brief).endswith("Added in the second tab.")  # the first writer's text

    # Merge: keep mine and add the stored text's new line, then save.
    mine = card.get_by_test_id("your-text")
    mine.fill(LONG_CHALLENGES + "\n\nAdded in the first tab.\n\nAdded in the second tab.")
    card.get_by_role("button", name="Save merged text").click()
    expect(card.locator(".autosave-status")).to_have_text(SAVED)
    expect(card.locator(".conflict-banner")).to_have_count(0)

    text = stored_text(brief)
    assert "Added in the first tab." in text
    assert "Added in the second tab." in text
    kinds = list(
        BriefSection.objects.get(brief=brief, key="business_challenges")
        .revisions.order_by("version")
        .values_list("kind", flat=True)
    )
    assert kinds[-1] == "merge"
    # No CSP violation or script error; the 409 itself is the only failed request.
    errors = [e for e in page.console_errors if "status of 409" not in e]
    assert errors == []


def test_the_merge_buttons_copy_the_stored_text_into_mine(
    request, page, login_as, alice, live_server
):
    brief = services.start_brief(request.getfixturevalue("call"), by=alice)
    section = BriefSection.objects.select_related("brief__call").get(
        brief=brief, key="business_challenges"
    )
    login_as(alice)
    page.goto(f"{live_server.url}{brief.get_edit_url()}")
    services.save_section(section, text="Stored words.", base_version=1, by=alice)

    card = page.locator("#section-business_challenges")
    card.get_by_label("Text").fill("My words.")
    expect(card.get_by_test_id("stored-text")).to_have_value("Stored words.")
    card.get_by_role("button", name="Add the stored text to mine").click()
    expect(card.get_by_test_id("your-text")).to_have_value("My words.\n\nStored words.")
    card.get_by_role("button", name="Save merged text").click()
    expect(card.locator(".autosave-status")).to_have_text(SAVED)

    assert stored_text(brief) == "My words.\n\nStored words."

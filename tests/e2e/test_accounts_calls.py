"""A rep's first morning: create an account, add its buying committee inline, schedule a call."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from callprep.models import Call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_creates_an_account_adds_stakeholders_inline_and_schedules_a_call(
    page, login_as, alice, live_server
):
    login_as(alice)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")

    # Create the account.
    page.get_by_role("link", name="New account").click()
    page.get_by_label("Name").fill("Nimbus Fictional Analytics")
    page.get_by_label("Website").fill("https://www.nimbus-fict.example")
    page.get_by_label("Industry (NAICS 2022)").fill("541511")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("Headquarters city").fill("Hamburg")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nimbus Fictional Analytics")
    account = Account.objects.get(name="Nimbus Fictional Analytics")
    assert account.domain == "nimbus-fict.example"
    detail_url = page.url

    # Two stakeholders, added inline: the page never reloads.
    stakeholders = page.locator("#stakeholders")
    for name, title, role, boss in (
        ("Dana Fictional", "CFO", "economic_buyer", None),
        ("Chris Fictional", "VP Data", "champion", "Dana Fictional (CFO)"),
    ):
        stakeholders.get_by_role("link", name="Add stakeholder").click()
        form = page.locator("#contact-form-new")
        expect(form).to_be_visible()
        form.get_by_label("Name").fill(name)
        form.get_by_label("Title").fill(title)
        form.get_by_label("Email").fill(f"{name.split()[0].lower()}@nimbus-fict.example")
        form.get_by_label("Buying role").select_option(role)
        if boss:
            form.get_by_label("Reports to").select_option(label=boss)
        form.get_by_role("button", name="Add stakeholder").click()
        expect(page.locator("#stakeholders")).to_contain_text(f"{name} added.")
    assert page.url == detail_url
    expect(page.locator("#stakeholders")).to_contain_text("Reports to Dana Fictional")
    expect(page.get_by_role("heading", name="Economic buyer")).to_be_visible()
    expect(page.get_by_role("heading", name="Champion")).to_be_visible()
    assert account.contacts.count() == 2

    # A rejected stakeholder keeps the inline form, with the error next to the field.
    page.locator("#stakeholders").get_by_role("link", name="Add stakeholder").click()
    form = page.locator("#contact-form-new")
    form.get_by_label("Name").fill("Dana Again")
    form.get_by_label("Email").fill("dana@nimbus-fict.example")
    form.get_by_role("button", name="Add stakeholder").click()
    expect(page.locator("#contact-form-new")).to_contain_text("already has a stakeholder")
    assert account.contacts.count() == 2

    # Schedule a call with the economic buyer.
    page.get_by_role("link", name="Schedule a call").first.click()
    day = dt.date.today() + dt.timedelta(days=3)
    page.get_by_label("Title").fill("Nimbus discovery")
    page.get_by_label("Starts").fill(f"{day:%Y-%m-%d}T10:00")
    page.get_by_label("Ends").fill(f"{day:%Y-%m-%d}T11:00")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Dana Fictional, CFO (Economic buyer)").check()
    page.get_by_label("Purpose").fill("Learn what drives their 2027 data budget")
    page.get_by_role("button", name="Schedule call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nimbus discovery")
    call = Call.objects.get()
    assert call.owner == alice
    assert [c.name for c in call.contacts.all()] == ["Dana Fictional"]

    # It is on "My calls", in the next 14 days, with a place for its brief.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My calls").click()
    soon = page.get_by_role("region", name="Next 14 days")
    expect(soon).to_contain_text("Nimbus discovery")
    expect(soon).to_contain_text("Nimbus Fictional Analytics")
    expect(soon).to_contain_text("Not started")
    assert page.console_errors == []


def test_the_account_search_updates_the_list_as_the_rep_types(page, login_as, alice, live_server):
    from accounts.models import Team

    east = Team.objects.get(name="East")
    for name in ("Alpha Fictional", "Beta Fictional", "Gamma Fictional"):
        Account.objects.create(name=name, owner=alice, team=east)
    login_as(alice)
    page.goto(f"{live_server.url}/accounts/")

    page.locator("main").get_by_label("Search", exact=True).fill("beta")

    results = page.locator("#account-results")
    expect(results).to_contain_text("1 account")
    expect(results).not_to_contain_text("Alpha Fictional")
    expect(page).to_have_url(re.compile(r"/accounts/\?q=beta&"))  # the search is in the URL
    page.go_back()
    expect(page.locator("#account-results")).to_contain_text("Alpha Fictional")
    assert page.console_errors == []

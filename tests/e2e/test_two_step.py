"""Two-step sign-in in a real browser: a rep sets up an authenticator app from the profile,
saves the recovery codes, signs out, and signs in again with the password and a code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.test_mfa import app_code
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_turns_on_two_step_sign_in_and_signs_in_with_a_code(page, live_server, alice):
    base = live_server.url
    sign_in(page, base, alice)
    page.goto(f"{base}/auth/profile/")
    expect(page.get_by_test_id("mfa-status")).to_contain_text("Off")
    page.get_by_role("link", name="Set up two-step sign-in").click()

    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_role("textbox", name="Code").fill(app_code(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_test_id("mfa-status")).to_contain_text("Recovery codes left: 10")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, alice)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_role("textbox", name="Code").fill(app_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="My calls")).to_be_visible()
    assert re.search(r"/calls/mine/$", page.url)
    assert page.console_problems == []

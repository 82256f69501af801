import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_signs_in_and_lands_on_my_calls(page, login_as, alice, live_server):
    login_as(alice)

    assert page.url == f"{live_server.url}/calls/mine/"
    assert page.get_by_role("heading", level=1).inner_text() == "My calls"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="My calls").is_visible()
    assert nav.get_by_role("link", name="Dashboard").count() == 0
    # No CSP violation or script error on the way in.
    assert page.console_errors == []


def test_a_wrong_password_keeps_the_user_on_the_login_page(page, alice, live_server):
    page.goto(f"{live_server.url}/auth/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in").click()

    assert "/auth/login/" in page.url
    assert page.get_by_role("alert").is_visible()

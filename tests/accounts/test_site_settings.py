"""The settings screen (accounts/settings_views.py, accounts/sitesettings.py): admins change the
data sources and the roles that must use two-step sign-in; the environment is the default;
the FRED key is never shown; every change is audited without a secret's value."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import mfa, sitesettings
from accounts.models import AuditEvent, AuditKind, SiteSetting
from accounts.settings_forms import SecurityForm
from callprep.evidence import clients

PAGE = reverse("site_settings:page")
SOURCES = reverse("site_settings:sources")
SECURITY = reverse("site_settings:security")
KEY = "0123456789abcdef0123456789abcdef"
SETUP = "/auth/two-step/setup/"


@pytest.fixture
def env(settings):
    """The environment's values, as salesprep/settings.py would have read them."""
    settings.SEC_CONTACT_EMAIL = "env-contact@example.com"
    settings.SEC_USER_AGENT = ""
    settings.FRED_API_KEY = ""
    settings.EVIDENCE_NEWS_FEEDS = []
    settings.MFA_REQUIRED_ROLES = []
    return settings


@pytest.fixture
def admin_client(client, ada, env):
    client.force_login(ada)
    return client


def sources(**changes) -> dict:
    """The data-sources form as the page shows it with the environment's values, changed."""
    form = {
        "SEC_CONTACT_EMAIL": "env-contact@example.com",
        "SEC_USER_AGENT": "",
        "FRED_API_KEY": "",
        "EVIDENCE_NEWS_FEEDS": "",
    }
    return {**form, **changes}


def changes_audited() -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(kind=AuditKind.SETTING_CHANGED)
        .order_by("pk")
        .values_list("username", "detail")
    )


# --- The accessor and the code that reads it ----------------------------------------------------


def test_a_value_saved_here_replaces_the_environments_for_the_sec_user_agent(admin_client):
    assert sitesettings.get("SEC_CONTACT_EMAIL") == "env-contact@example.com"
    assert clients.sec_user_agent() == "SalesPrep evidence collector env-contact@example.com"

    response = admin_client.post(SOURCES, sources(SEC_CONTACT_EMAIL="research@northwind.example"))

    assert response.status_code == 302 and response["Location"] == PAGE + "#sources"
    assert sitesettings.get("SEC_CONTACT_EMAIL") == "research@northwind.example"
    assert clients.sec_user_agent() == "SalesPrep evidence collector research@northwind.example"
    page = admin_client.get(PAGE).content.decode()
    origin = page.split('data-testid="origin-SEC_CONTACT_EMAIL"', 1)[1].split("</div>", 1)[0]
    assert "Set here" in origin and "by Ada" in origin
    env_origin = page.split('data-testid="origin-SEC_USER_AGENT"', 1)[1].split("</div>", 1)[0]
    assert "From the environment" in env_origin


def test_an_explicit_user_agent_saved_here_is_sent_as_it_is(admin_client):
    agent = "Northwind research desk ops@northwind.example"
    admin_client.post(SOURCES, sources(SEC_USER_AGENT=agent))
    assert clients.sec_user_agent() == agent


def test_a_user_agent_with_a_line_break_is_refused(admin_client):
    response = admin_client.post(SOURCES, sources(SEC_USER_AGENT="SalesPrep\r\nX-Evil: 1"))
    assert response.status_code == 400
    assert "no accents or line breaks" in response.content.decode()
    assert not SiteSetting.objects.exists()


def test_the_page_shows_the_environments_values_and_where_they_come_from(admin_client):
    page = admin_client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="env-contact@example.com"' in html
    assert html.count("From the environment") == 5
    assert "Reset to the environment default" not in html  # nothing saved here yet


# --- Who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "mallory", "victor", "nobody"])
def test_people_without_the_admin_role_are_refused_and_change_nothing(client, request, env, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(PAGE).status_code == 403
    assert client.post(SOURCES, sources(SEC_CONTACT_EMAIL="x@example.com")).status_code == 403
    assert client.post(SECURITY, {"MFA_REQUIRED_ROLES": ["Rep"]}).status_code == 403
    assert not SiteSetting.objects.exists()
    assert sitesettings.get("SEC_CONTACT_EMAIL") == "env-contact@example.com"


def test_only_admins_see_settings_in_the_navigation(client, ada, alice, mallory):
    for user, shown in ((ada, True), (alice, False), (mallory, False)):
        client.force_login(user)
        labels = [item.label for item in client.get(reverse("profile")).context["nav_items"]]
        assert ("Settings" in labels) is shown


def test_the_settings_entry_is_marked_current_on_the_settings_page(admin_client):
    assert admin_client.get(PAGE).context["nav_current"] == "site_settings"


def test_a_get_to_a_save_address_is_refused(admin_client):
    assert admin_client.get(SOURCES).status_code == 405


# --- The FRED key: write-only ------------------------------------------------------------------


def test_the_fred_key_never_appears_on_the_page_or_in_the_audit_log(admin_client):
    response = admin_client.post(SOURCES, sources(FRED_API_KEY=KEY), follow=True)

    html = response.content.decode()
    assert "Saved: FRED API key." in html
    assert KEY not in html
    assert KEY not in admin_client.get(PAGE).content.decode()
    state = html.split('data-testid="state-FRED_API_KEY"', 1)[1].split("</div>", 1)[0]
    assert "Key set" in state
    assert sitesettings.get("FRED_API_KEY") == KEY
    assert changes_audited() == [("ada", "FRED_API_KEY replaced")]
    assert not AuditEvent.objects.filter(detail__contains=KEY).exists()
    assert not AuditEvent.objects.filter(path__contains=KEY).exists()


def test_an_empty_key_field_keeps_the_key_and_remove_clears_it(admin_client, env):
    env.FRED_API_KEY = KEY  # from the environment
    page = admin_client.get(PAGE).content.decode()
    assert KEY not in page and "Key set" in page.split('data-testid="state-FRED_API_KEY"')[1]

    admin_client.post(SOURCES, sources())
    assert sitesettings.get("FRED_API_KEY") == KEY and not SiteSetting.objects.exists()

    admin_client.post(SOURCES, sources(clear_FRED_API_KEY="on"))
    assert sitesettings.get("FRED_API_KEY") == ""  # no key, although the environment has one
    page = admin_client.get(PAGE).content.decode()
    assert "No key" in page.split('data-testid="state-FRED_API_KEY"')[1].split("</div>")[0]
    assert changes_audited() == [("ada", "FRED_API_KEY cleared")]

    admin_client.post(SOURCES, sources(reset_FRED_API_KEY="on"))
    assert sitesettings.get("FRED_API_KEY") == KEY


def test_a_new_key_and_remove_together_are_refused(admin_client):
    response = admin_client.post(SOURCES, sources(FRED_API_KEY=KEY, clear_FRED_API_KEY="on"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Either type a new key or remove the key, not both." in html
    assert KEY not in html  # not even echoed back into the field
    assert not SiteSetting.objects.exists()


def test_a_malformed_key_is_refused_with_its_format(admin_client):
    response = admin_client.post(SOURCES, sources(FRED_API_KEY="not-a-key"))
    assert response.status_code == 400
    assert "A FRED API key is 32 lower-case letters and digits." in response.content.decode()
    assert sitesettings.get("FRED_API_KEY") == ""


# --- News feeds --------------------------------------------------------------------------------


def test_feeds_are_saved_one_per_line_and_the_news_source_uses_them(admin_client, acme):
    feeds = "https://news.example.com/rss?q={query}\n\n  https://trade.example.org/atom.xml  \n"
    admin_client.post(SOURCES, sources(EVIDENCE_NEWS_FEEDS=feeds))
    assert sitesettings.get("EVIDENCE_NEWS_FEEDS") == [
        "https://news.example.com/rss?q={query}",
        "https://trade.example.org/atom.xml",
    ]
    assert clients.news_feeds(acme) == [
        "https://news.example.com/rss?q=%22Acme%20Fictional%20Corp%22",
        "https://trade.example.org/atom.xml",
    ]
    page = admin_client.get(PAGE).content.decode()
    assert "https://news.example.com/rss?q={query}\nhttps://trade.example.org/atom.xml" in page


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ("ftp://news.example.com/feed", "Only http and https addresses can be fetched, not ftp"),
        ("http://127.0.0.1/feed", "127.0.0.1 is this machine (loopback)"),
        ("http://10.1.2.3/rss", "10.1.2.3 is a private network address"),
        ("http://169.254.169.254/latest", "is a link-local address"),
        ("http://localhost/rss", "localhost is not a public host name"),
        ("http://intranet.local/rss", "intranet.local is a name on a local network"),
        ("news.example.com/rss", "Only http and https addresses can be fetched"),
    ],
)
def test_a_bad_feed_address_is_named_and_nothing_is_saved(admin_client, feed, message):
    posted = f"https://good.example.com/rss\n{feed}"
    response = admin_client.post(
        SOURCES, sources(EVIDENCE_NEWS_FEEDS=posted, SEC_CONTACT_EMAIL="new@example.com")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "Feed 2 (" in html and message in html
    assert not SiteSetting.objects.exists() and changes_audited() == []
    assert sitesettings.get("EVIDENCE_NEWS_FEEDS") == []
    assert sitesettings.get("SEC_CONTACT_EMAIL") == "env-contact@example.com"


def test_more_than_twenty_feeds_are_refused(admin_client):
    feeds = "\n".join(f"https://news{n}.example.com/rss" for n in range(21))
    response = admin_client.post(SOURCES, sources(EVIDENCE_NEWS_FEEDS=feeds))
    assert response.status_code == 400
    assert "At most 20 feeds, please (21 given)." in response.content.decode()


# --- Audit, no-op saves, reset -----------------------------------------------------------------


def test_every_change_is_audited_with_who_and_what(admin_client, ada):
    admin_client.post(
        SOURCES,
        sources(SEC_CONTACT_EMAIL="new@example.com", EVIDENCE_NEWS_FEEDS="https://a.example.com/f"),
        REMOTE_ADDR="203.0.113.9",
    )
    events = AuditEvent.objects.filter(kind=AuditKind.SETTING_CHANGED).order_by("pk")
    assert [(e.user, e.detail) for e in events] == [
        (ada, "SEC_CONTACT_EMAIL set to 'new@example.com'"),
        (ada, "EVIDENCE_NEWS_FEEDS set to 'https://a.example.com/f'"),
    ]
    assert all(e.ip_address == "203.0.113.9" for e in events)


def test_saving_the_page_as_shown_changes_nothing(admin_client):
    response = admin_client.post(SOURCES, sources(), follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not SiteSetting.objects.exists() and changes_audited() == []


def test_reset_returns_a_setting_to_the_environment_default(admin_client, env):
    admin_client.post(SOURCES, sources(SEC_CONTACT_EMAIL="new@example.com"))
    page = admin_client.get(PAGE).content.decode()
    assert 'name="reset_SEC_CONTACT_EMAIL"' in page

    env.SEC_CONTACT_EMAIL = "changed-env@example.com"  # a redeploy with a new variable
    assert sitesettings.get("SEC_CONTACT_EMAIL") == "new@example.com"
    admin_client.post(
        SOURCES, sources(SEC_CONTACT_EMAIL="new@example.com", reset_SEC_CONTACT_EMAIL="on")
    )

    assert not SiteSetting.objects.filter(key="SEC_CONTACT_EMAIL").exists()
    assert sitesettings.get("SEC_CONTACT_EMAIL") == "changed-env@example.com"
    assert changes_audited()[-1] == ("ada", "SEC_CONTACT_EMAIL reset to the environment default")


# --- Security: the roles that must use two-step sign-in ---------------------------------------


def test_an_admin_can_require_two_step_sign_in_for_a_role(admin_client, mallory, alice):
    assert not mfa.is_required(mallory)
    response = admin_client.post(SECURITY, {"MFA_REQUIRED_ROLES": ["Manager", "Executive"]})
    assert response.status_code == 302 and response["Location"] == PAGE + "#security"

    assert sitesettings.get("MFA_REQUIRED_ROLES") == ["Executive", "Manager"]
    assert mfa.is_required(mallory) and not mfa.is_required(alice)
    assert changes_audited() == [("ada", "MFA_REQUIRED_ROLES set to 'Executive, Manager'")]

    admin_client.force_login(mallory)  # the middleware now sends her to set it up
    assert admin_client.get(reverse("accounts:list"))["Location"] == SETUP


def test_no_role_ticked_overrides_a_default_that_requires_admin(admin_client, env, ada):
    env.MFA_REQUIRED_ROLES = ["Admin"]
    assert mfa.is_required(ada)
    form = SecurityForm()
    assert form.initial["MFA_REQUIRED_ROLES"] == ["Admin"]
    # ada has no authenticator yet, so every page but the setup sends her there: the change
    # goes through the service, as the view would make it.
    sitesettings.change({"MFA_REQUIRED_ROLES": []}, by=ada)
    assert not mfa.is_required(ada)
    assert admin_client.get(PAGE).status_code == 200
    sitesettings.change({"MFA_REQUIRED_ROLES": sitesettings.RESET}, by=ada)
    assert mfa.is_required(ada)


def test_an_admin_who_requires_it_for_admins_is_sent_to_set_it_up(admin_client, ada):
    page = admin_client.get(PAGE).content.decode()
    assert "You have not set up two-step sign-in." in page

    response = admin_client.post(SECURITY, {"MFA_REQUIRED_ROLES": ["Admin"]}, follow=True)

    assert response.redirect_chain[-1][0] == SETUP
    assert "Saved: Roles that must use two-step sign-in." in response.content.decode()
    assert mfa.is_required(ada)


def test_the_same_roles_in_another_order_change_nothing(admin_client, env):
    env.MFA_REQUIRED_ROLES = ["Manager", "Rep"]
    admin_client.post(SECURITY, {"MFA_REQUIRED_ROLES": ["Rep", "Manager"]})
    assert not SiteSetting.objects.exists()


def test_a_role_that_does_not_exist_is_refused(admin_client):
    response = admin_client.post(SECURITY, {"MFA_REQUIRED_ROLES": ["Admins"]})
    assert response.status_code == 400
    assert "Admins is not one of the available choices." in response.content.decode()
    assert not SiteSetting.objects.exists()

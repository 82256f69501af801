"""Single sign-on against a real OpenID Connect provider.

The provider is django-oauth-toolkit in a second Django process (tests/oidc_provider/), with an
RS256 key made here, its own SQLite file, a confidential client that must use PKCE (S256), and
users whose e-mails match ours. The browser's side is played by an httpx client at the provider
and Django's test client at SalesPrep; SalesPrep's server side talks to the provider over HTTP
(discovery, token, keys, userinfo) exactly as in production.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import Group
from django.core.cache import cache

from accounts import sso
from accounts.models import AuditEvent, AuditKind, LoginThrottle, Team, User
from salesprep.env import ImproperlyConfiguredEnv, env_issuer_url, env_mapping

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "salesprep-test"
CLIENT_SECRET = "salesprep-test-secret-0123456789"
CALLBACK = "http://testserver/auth/sso/callback/"
START = "/auth/sso/start/"

# The provider's users. Ours (tests/conftest.py) have e-mails <username>@example.com.
PROVIDER_USERS = [
    {"username": "alice", "email": "alice@example.com", "groups": ["sales-reps"]},
    {"username": "bob", "email": "bob@example.com", "groups": []},
    {"username": "pat", "email": "Pat@Example.com", "groups": ["sales-managers", "east-sales"]},
    {"username": "stranger", "email": "stranger@example.org", "groups": ["sales-reps"]},
    {"username": "eve", "email": "charlie@example.com", "email_verified": False},
    # Signs a token for her own e-mail, then rewrites it to the admin's: a broken signature.
    {"username": "forger", "email": "forger@example.org", "forge_email": "ada@example.com"},
    # A correctly signed token for bob's e-mail whose exp is an hour ago.
    {"username": "late", "email": "bob@example.com", "expired": True},
    # Correctly signed tokens for alice's e-mail with one claim that does not fit.
    {"username": "elsewhere", "email": "alice@example.com", "override": {"aud": "other-app"}},
    {"username": "mixup", "email": "alice@example.com", "override": {"iss": "https://evil.test"}},
    {"username": "replay", "email": "alice@example.com", "override": {"nonce": "an-old-nonce"}},
]
for _user in PROVIDER_USERS:
    _user["password"] = "pw-at-provider-" + _user["username"]


@dataclass
class Provider:
    url: str

    @property
    def issuer(self) -> str:
        return self.url + "/o"


def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def provider(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oidc-provider")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(folder / "provider.sqlite3"),
        "OIDC_PROVIDER_KEY": _private_key_pem(),
        "OIDC_PROVIDER_USERS": json.dumps(PROVIDER_USERS),
        "OIDC_PROVIDER_CLIENT_ID": CLIENT_ID,
        "OIDC_PROVIDER_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_REDIRECT_URI": CALLBACK,
    }
    errors = (folder / "stderr.txt").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("serving "):
            errors.seek(0)
            pytest.fail(f"The test OpenID provider did not start: {line!r}\n{errors.read()}")
        yield Provider(url=line.split()[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errors.close()


@pytest.fixture
def sso_on(settings, provider, db):
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.OIDC_ISSUER_URL = provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_SCOPES = "openid email profile groups"
    settings.OIDC_GROUP_ROLES = {
        "sales-reps": "Rep",
        "sales-managers": "Manager",
        "salesprep-admins": "Admin",
    }
    settings.OIDC_GROUP_TEAMS = {"east-sales": "East", "west-sales": "West"}
    settings.OIDC_CREATE_USERS = False
    return provider


def follow_at_provider(browser: httpx.Client, url: str, username: str) -> str:
    """Play the browser at the provider: sign in there when asked, follow its redirects, and
    answer the URL it finally sends the browser to at SalesPrep."""
    for _ in range(10):
        if url.startswith("http://testserver/"):
            return url
        response = browser.get(url)
        if response.status_code == 200 and 'name="password"' in response.text:
            response = browser.post(
                url,
                data={
                    "username": username,
                    "password": "pw-at-provider-" + username,
                    "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                },
            )
        assert response.status_code == 302, (url, response.status_code, response.text[:500])
        url = urljoin(url, response.headers["location"])
    raise AssertionError("too many redirects at the provider")


def start(client, next_url: str = "") -> str:
    response = client.get(START + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def sso_sign_in(client, username: str, next_url: str = ""):
    """The whole round trip: the button, the provider, and SalesPrep's callback's response."""
    authorize = start(client, next_url)
    with httpx.Client(timeout=10) as browser:
        back = follow_at_provider(browser, authorize, username)
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}")


def signed_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- Off until configured ---------------------------------------------------------------------


def test_without_an_issuer_there_is_no_button_and_the_sso_urls_answer_404(client, db):
    page = client.get("/auth/login/")
    assert "Sign in with" not in text(page)
    assert client.get(START).status_code == 404
    assert client.get("/auth/sso/callback/?code=x&state=y").status_code == 404


def test_the_sign_in_page_keeps_its_form_and_adds_the_provider_button(client, sso_on):
    page = text(client.get("/auth/login/?next=/accounts/"))
    assert 'name="username"' in page and 'name="password"' in page
    assert "Sign in with Test IdP" in page
    assert 'href="/auth/sso/start/?next=/accounts/"' in page


# --- Discovery and the code flow --------------------------------------------------------------


def test_endpoints_come_from_discovery_fetched_on_first_use_and_cached(client, sso_on):
    sso.forget_provider()
    key = sso._cache_key("discovery", sso.discovery_url())
    assert cache.get(key) is None

    authorize = start(client)

    document = cache.get(key)
    assert document["issuer"] == sso_on.issuer
    assert authorize.startswith(document["authorization_endpoint"] + "?")
    assert document["authorization_endpoint"] == sso_on.issuer + "/authorize/"


def test_the_request_carries_state_nonce_and_an_s256_pkce_challenge(client, sso_on):
    query = parse_qs(urlsplit(start(client)).query)

    state = query["state"][0]
    stored = client.session["oidc_states"][state]
    assert query["nonce"] == [stored["nonce"]]
    assert query["code_challenge_method"] == ["S256"]
    digest = hashlib.sha256(stored["code_verifier"].encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    assert query["redirect_uri"] == [CALLBACK]


def test_the_provider_refuses_a_request_without_pkce_so_the_flow_really_uses_it(client, sso_on):
    parts = urlsplit(start(client))
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if not k.startswith("code_")}
    with httpx.Client(timeout=10) as browser:
        back = follow_at_provider(
            browser,
            f"{parts.scheme}://{parts.netloc}{parts.path}?{httpx.QueryParams(query)}",
            "alice",
        )
    assert parse_qs(urlsplit(back).query)["error"] == ["invalid_request"]


def test_a_verified_email_signs_in_its_account_marked_as_signed_in_by_sso(client, sso_on, alice):
    response = sso_sign_in(client, "alice", next_url="/accounts/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
    assert signed_in_as(client) == alice.pk
    assert client.session["signin_method"] == "sso"
    assert client.get("/accounts/").status_code == 200
    event = AuditEvent.objects.get(kind=AuditKind.SSO_LOGIN)
    assert event.user == alice and "alice@example.com" in event.detail


def test_the_email_is_matched_without_regard_to_case(client, sso_on, make_user):
    pat = make_user("pat", "Rep")  # pat@example.com; the provider says Pat@Example.com

    assert sso_sign_in(client, "pat").status_code == 302
    assert signed_in_as(client) == pat.pk


def test_a_stale_cached_discovery_document_is_dropped_and_fetched_again(client, sso_on, alice):
    sso.forget_provider()
    document = sso.discovery()
    key = sso._cache_key("discovery", sso.discovery_url())
    cache.set(key, {**document, "token_endpoint": sso_on.url + "/gone/"})

    refused = sso_sign_in(client, "alice")

    assert refused.status_code == 400
    assert "The sign-in from Test IdP was refused" in text(refused)
    assert cache.get(key) is None
    assert sso_sign_in(client, "alice").status_code == 302
    assert signed_in_as(client) == alice.pk


def test_a_callback_is_good_once(client, sso_on, alice):
    authorize = start(client)
    with httpx.Client(timeout=10) as browser:
        back = urlsplit(follow_at_provider(browser, authorize, "alice"))
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    client.logout()

    replayed = client.get(f"{back.path}?{back.query}")

    assert replayed.status_code == 400
    assert "this sign-in was not started in this browser" in text(replayed)
    assert signed_in_as(client) is None


# --- Refused tokens -----------------------------------------------------------------------------


def test_a_tampered_id_token_is_refused_with_a_clear_message_and_no_session(client, sso_on, ada):
    response = sso_sign_in(client, "forger")

    assert response.status_code == 400
    assert "The sign-in from Test IdP was refused: its ID token's signature is not valid." in text(
        response
    )
    assert signed_in_as(client) is None
    assert AuditEvent.objects.filter(kind=AuditKind.SSO_REFUSED).exists()
    assert not AuditEvent.objects.filter(kind=AuditKind.SSO_LOGIN).exists()


def test_an_expired_id_token_is_refused_with_a_clear_message_and_no_session(client, sso_on, bob):
    response = sso_sign_in(client, "late")

    assert response.status_code == 400
    assert "its ID token has expired" in text(response)
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    ("username", "sentence"),
    [
        ("elsewhere", "its ID token is meant for another client"),
        ("mixup", "its ID token comes from another issuer"),
        ("replay", "its ID token does not answer this sign-in"),
    ],
)
def test_a_signed_id_token_for_another_client_issuer_or_nonce_is_refused(
    client, sso_on, alice, username, sentence
):
    response = sso_sign_in(client, username)

    assert response.status_code == 400
    assert sentence in text(response)
    assert signed_in_as(client) is None


# --- Matching the account -----------------------------------------------------------------------


def test_an_email_two_active_accounts_share_signs_nobody_in(client, sso_on, alice, make_user):
    User.objects.filter(pk=make_user("alice2").pk).update(email="ALICE@example.com")

    response = sso_sign_in(client, "alice")

    assert response.status_code == 403
    assert "More than one SalesPrep account uses alice@example.com" in text(response)
    assert signed_in_as(client) is None


def test_an_email_the_provider_has_not_verified_signs_nobody_in(client, sso_on, charlie):
    response = sso_sign_in(client, "eve")

    assert response.status_code == 403
    assert "has not verified the e-mail address charlie@example.com" in text(response)
    assert signed_in_as(client) is None


def test_an_email_no_account_uses_is_told_to_ask_an_administrator(client, sso_on, alice):
    response = sso_sign_in(client, "stranger")

    assert response.status_code == 403
    assert "No SalesPrep account uses stranger@example.org; ask an administrator." in text(response)
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="stranger@example.org").exists()
    # The refusal is counted against that e-mail from this address.
    assert LoginThrottle.objects.get(username="stranger@example.org").failures == 1


def test_with_oidc_create_users_an_unknown_email_gets_an_account(client, sso_on, settings):
    settings.OIDC_CREATE_USERS = True

    assert sso_sign_in(client, "stranger").status_code == 302

    user = User.objects.get(email="stranger@example.org")
    assert signed_in_as(client) == user.pk
    assert user.username == "stranger@example.org" and not user.has_usable_password()
    assert user.role_list == ["Rep"]


def test_a_deactivated_user_cannot_sign_in(client, sso_on, bob):
    User.objects.filter(pk=bob.pk).update(is_active=False)

    response = sso_sign_in(client, "bob")

    assert response.status_code == 403
    assert "deactivated" in text(response)
    assert signed_in_as(client) is None


def test_the_groups_claim_replaces_the_mapped_roles_and_teams_only(client, sso_on, make_user):
    # Rep is mapped (and pat is not in sales-reps), Sales leader is not mapped; West is mapped.
    pat = make_user("pat", "Rep", "Sales leader", team="West")
    Team.objects.get_or_create(name="East")
    Team.objects.get_or_create(name="North")[0].members.add(pat)  # not mapped: kept

    assert sso_sign_in(client, "pat").status_code == 302

    pat = User.objects.get(pk=pat.pk)
    assert pat.role_list == ["Manager", "Sales leader"]
    assert sorted(pat.teams.values_list("name", flat=True)) == ["East", "North"]
    # Leaving West ended pat's other sessions, not this one.
    assert signed_in_as(client) == pat.pk
    assert client.get("/auth/profile/").status_code == 200


def test_without_a_role_mapping_roles_are_left_alone(client, sso_on, settings, alice):
    settings.OIDC_GROUP_ROLES = {}
    Group.objects.get(name="Executive").user_set.add(alice)

    assert sso_sign_in(client, "alice").status_code == 302

    assert User.objects.get(pk=alice.pk).role_list == ["Executive", "Rep"]


# --- The throttle -----------------------------------------------------------------------------


def test_invalid_callbacks_from_one_address_are_throttled_with_a_429(client, sso_on, alice):
    for _ in range(5):
        assert client.get("/auth/sso/callback/?state=forged&code=x").status_code == 400

    refused = sso_sign_in(client, "alice")

    assert refused.status_code == 429
    assert "Too many failed sign-in attempts. Try again in" in text(refused)
    assert "username" not in text(refused).split("Too many failed", 1)[1][:120]
    assert "reset your password" not in text(refused)
    assert int(refused["Retry-After"]) > 0
    assert signed_in_as(client) is None


# --- Password sign-in for break-glass users only ------------------------------------------------


@pytest.fixture
def break_glass(settings, ada):
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.OIDC_ISSUER_URL = "https://idp.example.com"
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.PASSWORD_SIGNIN = "break-glass"
    settings.BREAK_GLASS_USERS = ["ada"]


def test_with_break_glass_only_the_listed_users_may_use_a_password(client, break_glass, alice):
    # The admin's login page is this page too (tests/accounts/test_signin_throttle.py).
    url = "/auth/login/"
    refused = client.post(url, {"username": "alice", "password": "pw-alice"})

    assert "Password sign-in is turned off for this account" in text(refused)
    assert "Sign in with Test IdP" in text(refused)
    assert signed_in_as(client) is None
    assert not LoginThrottle.objects.exists()  # the password was not even tried

    client.post(url, {"username": "ada", "password": "pw-ada"})
    assert signed_in_as(client) is not None


def test_by_default_everyone_may_use_a_password(client, alice):
    client.post("/auth/login/", {"username": "alice", "password": "pw-alice"})
    assert signed_in_as(client) == alice.pk


# --- A provider that cannot be reached ----------------------------------------------------------


def test_a_provider_that_cannot_be_reached_is_a_clear_message_not_an_error(client, settings, db):
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.OIDC_ISSUER_URL = "http://127.0.0.1:9"  # discard: nothing listens
    settings.OIDC_CLIENT_ID = CLIENT_ID
    sso.forget_provider()

    response = client.get(START)

    assert response.status_code == 503
    assert "Test IdP cannot be reached right now" in text(response)


# --- Settings -----------------------------------------------------------------------------------


def test_group_mappings_are_read_as_pairs_and_a_malformed_one_names_the_variable(monkeypatch):
    monkeypatch.setenv("OIDC_GROUP_ROLES", "sales-reps=Rep, sales-managers = Manager")
    assert env_mapping("OIDC_GROUP_ROLES") == {"sales-reps": "Rep", "sales-managers": "Manager"}
    monkeypatch.setenv("OIDC_GROUP_ROLES", "sales-reps")
    with pytest.raises(ImproperlyConfiguredEnv, match="OIDC_GROUP_ROLES"):
        env_mapping("OIDC_GROUP_ROLES")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://login.example.com/realms/sales/", "https://login.example.com/realms/sales"),
        ("http://127.0.0.1:8080/o", "http://127.0.0.1:8080/o"),
        ("", ""),
    ],
)
def test_the_issuer_is_https_or_on_this_machine(monkeypatch, raw, expected):
    monkeypatch.setenv("OIDC_ISSUER_URL", raw)
    assert env_issuer_url("OIDC_ISSUER_URL") == expected


def test_a_plain_http_issuer_elsewhere_is_refused(monkeypatch):
    monkeypatch.setenv("OIDC_ISSUER_URL", "http://login.example.com")
    with pytest.raises(ImproperlyConfiguredEnv, match="not an https:// URL"):
        env_issuer_url("OIDC_ISSUER_URL")


def test_a_role_mapping_to_an_unknown_role_fails_the_system_check(settings):
    settings.OIDC_GROUP_ROLES = {"sales-reps": "Rep", "bosses": "Boss"}
    errors = sso.check_settings()
    assert [e.id for e in errors] == ["accounts.E101"]
    assert "'Boss'" in errors[0].msg

"""Every page but the login (and its code step), password-reset pages and /healthz sends
anonymous users to login."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {
    "login",
    "healthz",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "mfa_verify",  # the code step after a right password; nothing without that step
    "admin_login",  # sends the visitor to the login page
    # Single sign-on's button and callback (404 while it is not configured).
    "sso_start",
    "sso_callback",
}


def named_routes(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # Django's admin redirects to its own login; covered separately
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_routes(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, prefix + str(entry.pattern), entry


def concrete_path(route: str) -> str:
    import re

    path = re.sub(r"<(?:int:)?\w*(?:pk|id)>", "1", route)
    path = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000000", path)
    path = re.sub(r"<[^>]+>", "x", path)
    return "/" + path.lstrip("^").rstrip("$")


@pytest.mark.django_db
def test_every_page_but_the_public_ones_redirects_anonymous_users_to_login(client):
    checked = 0
    for name, route, pattern in named_routes():
        view = pattern.callback
        if name.split(":")[-1] in PUBLIC or not getattr(view, "login_required", True):
            continue
        path = concrete_path(route)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 302, (name, path, method, response.status_code)
            assert response["Location"].startswith("/auth/login/?next="), (name, path)
        checked += 1
    assert checked >= 5


@pytest.mark.django_db
def test_only_the_expected_views_are_open_to_anonymous_users():
    open_views = {
        name.split(":")[-1]
        for name, _, pattern in named_routes()
        if getattr(pattern.callback, "login_required", True) is False
    }
    allowed = PUBLIC | {"calendar_feed"}  # a personal feed authenticates by its secret token
    assert open_views <= allowed, open_views - allowed

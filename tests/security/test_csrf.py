"""Every route that accepts an unsafe method refuses it without a CSRF token."""

import pytest
from django.test import Client

from tests.test_anonymous_access import concrete_path, named_routes

UNSAFE = ("post", "put", "patch", "delete")


@pytest.mark.django_db
def test_every_unsafe_request_without_a_csrf_token_is_refused(ada):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    checked = 0
    for name, route, _pattern in named_routes():
        path = concrete_path(route)
        for method in UNSAFE:
            response = getattr(client, method)(path)
            # 403 from the CSRF check; 405 where the route never accepts the method at all.
            assert response.status_code in (403, 405), (name, path, method, response.status_code)
            if response.status_code == 403:
                checked += 1
    assert checked >= 10


@pytest.mark.django_db
def test_the_login_form_itself_needs_the_token(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/auth/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403

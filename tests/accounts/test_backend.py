"""The authentication backend reads the user's roles in the user's own query."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import RoleLoadingBackend


def _queries_on(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_a_request_reads_the_roles_with_the_user_and_never_on_their_own(client, make_user):
    manager = make_user("mona", "Manager", "Executive", manages="East")
    client.force_login(manager)
    queries = _queries_on(client, "/dashboard/")
    users = [q for q in queries if 'FROM "accounts_user"' in q and "auth_group" in q]
    assert len(users) == 1  # the user and their roles together
    alone = [q for q in queries if q.lstrip().startswith('SELECT "auth_group"."name"')]
    assert alone == []


def test_the_backend_returns_every_role_and_none_for_a_user_without_roles(make_user):
    both = make_user("bea", "Manager", "Executive")
    nobody = make_user("ned")
    backend = RoleLoadingBackend()
    assert backend.get_user(both.pk).role_names == {"Manager", "Executive"}
    assert backend.get_user(nobody.pk).role_names == frozenset()
    assert backend.get_user(nobody.pk + 1000) is None


def test_a_deactivated_user_is_not_loaded(make_user):
    user = make_user("dora", "Rep")
    user.is_active = False
    user.save()
    assert RoleLoadingBackend().get_user(user.pk) is None


def test_a_role_taken_away_is_gone_on_the_next_request(client, make_user):
    manager = make_user("max", "Manager", manages="East")
    client.force_login(manager)
    assert client.get("/dashboard/").status_code == 200
    manager.groups.remove(Group.objects.get(name="Manager"))
    assert client.get("/dashboard/").status_code == 403

"""Shared fixtures: users of every role on two teams, and a fail-fast check of services.

Names follow one story: alice (rep, East) and bob (rep, East) are teammates, charlie (rep, West)
is the outsider; mallory manages East, walter manages West; victor is an executive; ada is an
admin.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings


def _reachable(url: str, default_port: int) -> tuple[bool, str]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return True, f"{host}:{port}"
    except OSError as exc:
        return False, f"{host}:{port} ({exc.strerror or exc})"


def pytest_sessionstart(session):
    problems = []
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        ok, where = _reachable(f"postgres://{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}", 5432)
        if not ok:
            problems.append(f"PostgreSQL is not reachable at {where}")
    if settings.REDIS_URL:
        ok, where = _reachable(settings.REDIS_URL, 6379)
        if not ok:
            problems.append(f"Redis is not reachable at {where}")
    if problems:
        pytest.exit(
            "The test suite needs PostgreSQL and Redis: "
            + "; ".join(problems)
            + ". Start them (e.g. `docker compose up -d postgres redis`) or set DATABASE_URL "
            "and REDIS_URL.",
            returncode=3,
        )


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import Group

    from accounts.models import Team, User
    from accounts.roles import ensure_roles

    ensure_roles()  # transactional tests flush the groups the data migration made

    def make(
        username: str, *roles: str, team: str | None = None, manages: str | None = None, **extra
    ) -> User:
        user = User.objects.create_user(
            username=username,
            password="pw-" + username,
            email=f"{username}@example.com",
            first_name=username.title(),
            **extra,
        )
        if roles:
            user.groups.set(Group.objects.filter(name__in=roles))
        if team:
            Team.objects.get_or_create(name=team)[0].members.add(user)
        if manages:
            Team.objects.get_or_create(name=manages)[0].managers.add(user)
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice", "Rep", team="East")


@pytest.fixture
def bob(make_user):
    return make_user("bob", "Rep", team="East")


@pytest.fixture
def charlie(make_user):
    return make_user("charlie", "Rep", team="West")


@pytest.fixture
def mallory(make_user):
    return make_user("mallory", "Manager", manages="East")


@pytest.fixture
def walter(make_user):
    return make_user("walter", "Manager", manages="West")


@pytest.fixture
def victor(make_user):
    return make_user("victor", "Executive")


@pytest.fixture
def ada(make_user):
    return make_user("ada", "Admin", is_staff=True, is_superuser=True)


@pytest.fixture
def nobody(make_user):
    """A signed-up user with no role at all."""
    return make_user("nobody")


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(client, alice):
    return login(client, alice)

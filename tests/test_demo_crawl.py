"""Click every link of the seeded demo as each demo user, as a new user would.

For each of ``rep``, ``rep2``, ``manager``, ``vp`` and ``admin``: sign in through the login
form, then follow every same-site link and ``hx-get`` the pages show (breadth first, each path
up to three of each kind). Every link a page shows must answer 200 (or a redirect to
a page that does) — a link to a 403/404/500 is a broken promise — and what one team sees must
not mention the other team's customers.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from django.urls import reverse

from accounts.models import Account
from callprep.demo import load

pytestmark = pytest.mark.django_db

PAGE_LIMIT = 400  # per user: a safety net; each kind of page is visited up to 3 times
SKIP_PREFIXES = ("/static/", "/media/", "/auth/logout/")
# Django's admin: its own, well-tested pages; one visit to its index shows the admin works.
ADMIN_PREFIX = "/admin/"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in ("href", "hx-get"):
            value = values.get(name)
            if value and tag in ("a", "link", "div", "section", "span", "tr", "form", "button"):
                if tag == "link":
                    continue  # stylesheets, icons
                self.found.append(value)


def same_site(link: str) -> str | None:
    link, _ = urldefrag(link.strip())
    if not link or not link.startswith("/") or link.startswith("//"):
        return None
    if link.startswith(SKIP_PREFIXES):
        return None
    return link


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def shape(link: str) -> tuple[str, tuple[str, ...]]:
    """A kind of page: its path with the ids left out, and which query parameters it takes."""
    parts = urlsplit(link)
    path = re.sub(r"/\d+/", "/<id>/", UUID.sub("<uuid>", parts.path))
    return path, tuple(sorted({k for k, _ in parse_qsl(parts.query)}))


def crawl(client, *starts: str) -> tuple[dict[str, int], list[str], str]:
    seen_shapes: dict[tuple, int] = {}
    visited: dict[str, int] = {}
    broken: list[str] = []
    text_seen: list[str] = []
    queue: deque[tuple[str, str]] = deque((start, "(start)") for start in starts)
    while queue and len(visited) < PAGE_LIMIT:
        link, found_on = queue.popleft()
        if link in visited:
            continue
        key = shape(link)
        if seen_shapes.get(key, 0) >= 3:
            continue
        seen_shapes[key] = seen_shapes.get(key, 0) + 1
        if link.startswith(ADMIN_PREFIX) and link != ADMIN_PREFIX:
            continue
        response = client.get(link, follow=True)
        visited[link] = response.status_code
        if response.status_code != 200:
            broken.append(f"{link} -> {response.status_code} (linked from {found_on})")
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue  # CSV exports, calendar files: they answered 200, nothing to follow
        body = response.content.decode()
        text_seen.append(body)
        parser = Links()
        parser.feed(body)
        for found in parser.found:
            target = same_site(found)
            if target and target not in visited:
                queue.append((target, link))
    return visited, broken, "\n".join(text_seen)


def sign_in(client, username: str) -> None:
    response = client.post(
        reverse("login"), {"username": username, "password": load.DEMO_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.username == username, f"{username} could not sign in"


@pytest.fixture
def seeded():
    load.seed()
    east = set(Account.objects.filter(team__name="East").values_list("name", flat=True))
    west = set(Account.objects.filter(team__name="West").values_list("name", flat=True))
    assert east and west
    return east, west


@pytest.mark.parametrize("username", ["rep", "rep2", "manager", "vp", "admin"])
def test_every_link_a_demo_user_sees_works(client, seeded, username):
    east, west = seeded
    sign_in(client, username)

    # The admin lands on Django's admin; the app's pages are theirs too.
    starts = ("/", "/calls/mine/", "/dashboard/") if username == "admin" else ("/",)
    visited, broken, seen = crawl(client, *starts)

    print(f"{username}: {len(visited)} pages")
    assert not broken, f"{username}: links that do not work:\n" + "\n".join(broken)
    assert len(visited) >= 15, f"{username} reached only {len(visited)} pages"
    others = {"rep": west, "manager": west, "rep2": east}.get(username, set())
    leaked = sorted(name for name in others if re.search(re.escape(name), seen))
    assert not leaked, f"{username} sees the other team's customers: {leaked}"

"""Benchmark every kind of page of the demo against a cheap page, per demo user.

For each demo user (``rep``, ``rep2``, ``manager``, ``vp``, ``admin``) it follows the links the
pages show, from the home page, one page of each kind (the path with its ids left out), and
times each in-process through Django's test client — the whole middleware stack — against
``/auth/profile/`` for the same user, measured in the same run. Figures are medians of
``--runs`` requests; the ratio is what the acceptance reads: no page more than ``RATIO_LIMIT``
times the profile page (``--check`` exits non-zero when one is).

Needs the demo's data in a scratch database:

    export DJANGO_SETTINGS_MODULE=loadtest.settings
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesprep_pages
    uv run manage.py migrate --noinput
    uv run manage.py demo --seed-only --no-evidence   # or let the command seed (--seed)
    uv run manage.py bench_pages --runs 7 --check
"""

from __future__ import annotations

import re
import statistics
import time
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User

USERS = ("rep", "rep2", "manager", "vp", "admin")
RATIO_LIMIT = 6.0
BASE = "/auth/profile/"
SKIP = ("/static/", "/media/", "/auth/logout/", "/admin/", "/__", "/healthz")
ID = re.compile(r"/(\d+|[0-9a-f]{8}-[0-9a-f-]{27})/")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("a", "div", "section", "span", "tr", "button"):
            values = dict(attrs)
            for name in ("href", "hx-get"):
                if values.get(name):
                    self.found.append(values[name])


def kind(link: str) -> str:
    parts = urlsplit(link)
    return ID.sub("/<id>/", parts.path) + ("?" if parts.query else "")


def page_kinds(client: Client, limit: int) -> dict[str, str]:
    """One link per kind of page the user can reach from the home page."""
    kinds: dict[str, str] = {}
    queue = deque(["/"])
    while queue and len(kinds) < limit:
        link = queue.popleft()
        if kind(link) in kinds:
            continue
        response = client.get(link)
        if response.status_code in (301, 302) and response["Location"].startswith("/"):
            queue.appendleft(response["Location"])  # the home page sends each role on
            continue
        if response.status_code != 200:
            continue
        kinds[kind(link)] = link
        if "text/html" not in response.get("Content-Type", ""):
            continue
        parser = Links()
        parser.feed(response.content.decode())
        for found in parser.found:
            found, _ = urldefrag(found.strip())
            keep = found.startswith("/") and not found.startswith(("//", *SKIP))
            if keep and kind(found) not in kinds:
                queue.append(found)
    return kinds


def timed(client: Client, link: str, runs: int) -> tuple[float, int]:
    """Median milliseconds of ``runs`` requests, and the queries of one."""
    times, queries = samples(client, link, runs)
    return statistics.median(times), queries


def samples(client: Client, link: str, runs: int) -> tuple[list[float], int]:
    times = []
    queries = 0
    for n in range(runs + 1):  # the first request warms caches and is not counted
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(link)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise CommandError(f"{link} answered {response.status_code}.")
        if n:
            times.append(elapsed)
            queries = len(captured)
    return times, queries


class Command(BaseCommand):
    help = "Time each kind of demo page against /auth/profile/ for each demo user."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=7)
        parser.add_argument("--limit", type=int, default=80, help="Kinds of page per user.")
        parser.add_argument("--seed", action="store_true", help="Seed the demo first.")
        parser.add_argument("--check", action="store_true", help=f"Fail over {RATIO_LIMIT}x.")

    def handle(self, *args, runs, limit, seed, check, **options):
        if not 1 <= runs <= 100:
            raise CommandError("Use between 1 and 100 runs.")
        if seed:
            from callprep.demo import load

            load.seed(evidence=False)
        users = {u.username: u for u in User.objects.filter(username__in=USERS)}
        if len(users) != len(USERS):
            raise CommandError("The demo users are missing: seed the demo (--seed).")
        worst = 0.0
        over: list[str] = []
        for username in USERS:
            client = Client(HTTP_HOST="localhost")
            client.force_login(users[username])
            pages = sorted(page_kinds(client, limit).items())
            # The cheap page before and after the others: one median of both.
            before, base_queries = samples(client, BASE, runs)
            measured = [(page, *timed(client, link, runs)) for page, link in pages]
            after, _ = samples(client, BASE, runs)
            base = statistics.median(before + after)
            self.stdout.write(f"\n{username}: {BASE} {base:.1f} ms, {base_queries} queries")
            rows = [(ms / base, ms, queries, page) for page, ms, queries in measured]
            for ratio, ms, queries, page in sorted(rows, reverse=True):
                flag = "  OVER" if ratio > RATIO_LIMIT else ""
                self.stdout.write(f"  {ratio:5.2f}x {ms:7.1f} ms {queries:3d} q  {page}{flag}")
                if ratio > RATIO_LIMIT:
                    over.append(f"{username} {page} {ratio:.1f}x")
            worst = max([worst, *(r[0] for r in rows)])
        self.stdout.write(f"\nWorst ratio {worst:.2f}x (limit {RATIO_LIMIT}x).")
        if check and over:
            raise CommandError("Over the limit: " + "; ".join(over))

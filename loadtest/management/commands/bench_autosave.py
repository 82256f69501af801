"""Benchmark the brief autosave: server time and queries per save of a 20,000-character section.

Runs in-process through Django's test client (the full middleware stack: session, auth, CSRF,
CSP, htmx), against the configured database. It creates a throw-away rep, team, account, call
and brief, and deletes them again — also when interrupted.

    createdb -h 127.0.0.1 -U postgres salesprep_bench
    export DJANGO_SETTINGS_MODULE=tests.settings
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesprep_bench
    uv run manage.py migrate --noinput
    uv run manage.py bench_autosave --saves 300

The acceptance limits are a p95 of 30 ms and at most 6 queries per save; ``--check`` exits
non-zero when a limit is missed.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Team, User
from accounts.roles import Role, ensure_roles
from callprep.briefs import services
from callprep.models import Call

P95_LIMIT_MS = 30.0
QUERY_LIMIT = 6

PARAGRAPH = (
    "Bench Corp wants to cut order-to-cash time from 41 to 20 days this fiscal year; their CFO "
    "told us working capital is tied up in disputes {said: Dana Buyer, 12 May}. Their margins "
    "fell for three quarters {source: https://www.sec.gov/cgi-bin/browse-edgar?CIK=0000000000} "
    "and they will consolidate suppliers {inference}.\n\n- **Priority:** a single customer "
    "master across their three ERPs.\n- Their board asked for a plan by September.\n\n"
)


def section_text(size: int, n: int) -> str:
    body = (PARAGRAPH * (size // len(PARAGRAPH) + 1))[: size - 12]
    return f"{body}\nEdit {n:06d}."


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


class Command(BaseCommand):
    help = "Measure autosave server time (median, p95) and queries per save."

    def add_arguments(self, parser):
        parser.add_argument("--saves", type=int, default=200, help="Measured saves (200).")
        parser.add_argument("--warmup", type=int, default=10, help="Unmeasured saves first.")
        parser.add_argument("--chars", type=int, default=20_000, help="Section size (20,000).")
        parser.add_argument("--check", action="store_true", help="Exit 1 over the limits.")

    def handle(self, *args, saves: int, warmup: int, chars: int, check: bool, **options):
        if saves < 1:
            raise CommandError("--saves must be at least 1.")
        tag = uuid.uuid4().hex[:8]
        created: dict = {}
        try:
            with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
                times, queries = self.run_bench(tag, created, saves, warmup, chars)
        finally:
            self.clean_up(created)
        median, p95 = statistics.median(times), percentile(times, 0.95)
        self.stdout.write(
            f"database: {connection.vendor} ({settings.DATABASES['default'].get('NAME')})\n"
            f"autosaves measured: {saves} of a {chars:,}-character section "
            f"(after {warmup} warm-up saves)\n"
            f"server time: median {median:.2f} ms, p95 {p95:.2f} ms, max {max(times):.2f} ms\n"
            f"queries per save: max {max(queries)}, median {statistics.median(queries):g}"
        )
        ok = p95 <= P95_LIMIT_MS and max(queries) <= QUERY_LIMIT
        verdict = "within" if ok else "OVER"
        self.stdout.write(
            f"{verdict} the limits (p95 ≤ {P95_LIMIT_MS:g} ms, ≤ {QUERY_LIMIT} queries per save)"
        )
        if check and not ok:
            raise CommandError("Autosave is over its budget.")

    def run_bench(self, tag, created, saves, warmup, chars):
        ensure_roles()
        user = User.objects.create_user(username=f"bench-rep-{tag}", first_name="Bench")
        created["user"] = user
        user.groups.set(Group.objects.filter(name=str(Role.REP)))
        team = Team.objects.create(name=f"bench-team-{tag}")
        created["team"] = team
        team.members.add(user)
        account = Account.objects.create(name=f"Bench Corp {tag}", owner=user, team=team)
        created["account"] = account
        starts = timezone.now() + dt.timedelta(days=3)
        call = Call.objects.create(
            account=account,
            owner=user,
            title="Benchmark call",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=1),
        )
        brief = services.start_brief(call, by=User.objects.get(pk=user.pk), carry_forward=False)
        client = Client()
        client.force_login(user)
        created["session"] = client.session.session_key
        url = reverse("briefs:section", args=[brief.pk, "business_challenges"])
        version = 1
        times: list[float] = []
        queries: list[int] = []
        for n in range(warmup + saves):
            data = {"text": section_text(chars, n), "base_version": str(version)}
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.post(url, data, HTTP_HX_REQUEST="true")
                elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise CommandError(f"Save {n} answered {response.status_code}.")
            version = int(response["X-Section-Version"])
            if n >= warmup:
                times.append(elapsed)
                queries.append(len(captured.captured_queries))
        return times, queries

    def clean_up(self, created: dict) -> None:
        if "session" in created:
            Session.objects.filter(session_key=created["session"]).delete()
        if "account" in created:
            created["account"].delete()  # its calls, brief, sections and revisions go with it
        if "team" in created:
            created["team"].delete()
        if "user" in created:
            created["user"].delete()

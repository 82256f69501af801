"""`manage.py bench_dashboard`: the prep dashboard's server time at the size of a real sales org.

Run it on a database filled by ``generate_load_data`` (and ANALYZEd, which the generator does).
It signs in through Django's test client as a manager (the team view) and as an executive (the
whole organisation), requests the dashboard ``--runs`` times each after a warm-up, and prints
p50/p95 in-process server time and the queries per request. Then it prints the EXPLAIN plan
of every query of the team view that reads calls, briefs or the calls' facts (the dashboard's
read model), and says whether any plan has a sequential scan on one of those tables.
Read-only: it writes nothing but sessions.
"""

from __future__ import annotations

import re
import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from callprep.briefs.models import Brief
from callprep.dashboard.models import CallFact
from callprep.models import Call

WATCHED = (Call._meta.db_table, Brief._meta.db_table, CallFact._meta.db_table)


def seq_scans(plan: str) -> list[str]:
    """The watched tables a plan reads with a sequential scan (``Seq Scan on <table>``)."""
    found = []
    for table in WATCHED:
        if re.search(rf'Seq Scan on "?{re.escape(table)}"?(\s|$)', plan):
            found.append(table)
    return found


class Command(BaseCommand):
    help = "Benchmark the prep dashboard (team and organisation) on generated load data."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20)
        parser.add_argument("--manager", default="load-manager-000")
        parser.add_argument("--executive", default="load-exec-000")
        parser.add_argument("--no-plans", action="store_true", help="Skip the EXPLAIN output.")
        parser.add_argument("--analyze", action="store_true", help="EXPLAIN ANALYZE (runs them).")
        parser.add_argument("--check", action="store_true", help="Fail above the targets.")

    def handle(self, *args, runs: int, manager: str, executive: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark is meant for PostgreSQL (see generate_load_data).")
        users = {u.username: u for u in User.objects.filter(username__in=[manager, executive])}
        if len(users) != 2:
            raise CommandError(
                f"No users {manager} and {executive}: run generate_load_data first "
                "(or pass --manager / --executive)."
            )
        calls = Call.objects.count()
        self.stdout.write(f"{calls:,} calls, {Brief.objects.count():,} briefs; {runs} runs each")
        url = reverse("callprep:dashboard")
        results = []
        team_queries = []
        for label, user in (("team", users[manager]), ("organisation", users[executive])):
            client = Client(SERVER_NAME=self.host())
            client.force_login(user)
            for _ in range(3):
                self.get(client, url)
            with CaptureQueriesContext(connection) as captured:
                self.get(client, url)
            queries = list(captured.captured_queries)
            if label == "team":
                team_queries = queries
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                self.get(client, url)
                timings.append((time.perf_counter() - started) * 1000)
            p50 = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
            results.append((label, len(queries), p50, p95))
            self.stdout.write(
                f"{label:>13}: {len(queries):2d} queries, p50 {p50:6.1f} ms, p95 {p95:6.1f} ms"
            )
        scanned = self.plans(team_queries, quiet=options["no_plans"], analyze=options["analyze"])
        verdict = (
            "no sequential scan on " + ", ".join(WATCHED)
            if not scanned
            else "SEQUENTIAL SCAN on " + ", ".join(sorted(scanned))
        )
        self.stdout.write(f"Team view plans: {verdict}.")
        if options["check"]:
            limits = {"team": 150.0, "organisation": 400.0}
            failures = [
                f"{label} p95 {p95:.0f} ms > {limits[label]:.0f} ms"
                for label, _q, _p50, p95 in results
                if p95 > limits[label]
            ] + [f"{label}: {q} queries > 12" for label, q, _p50, _p95 in results if q > 12]
            if scanned:
                failures.append(verdict)
            if failures:
                raise CommandError("; ".join(failures))

    def host(self) -> str:
        hosts = [h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")]
        return hosts[0] if hosts else "localhost"

    def get(self, client, url):
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise CommandError(f"The dashboard answered {response.status_code}.")
        return response

    def plans(self, queries, *, quiet: bool, analyze: bool) -> set[str]:
        scanned: set[str] = set()
        explain = "EXPLAIN (ANALYZE, BUFFERS)" if analyze else "EXPLAIN"
        for n, query in enumerate(queries, 1):
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or not any(t in sql for t in WATCHED):
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"{explain} {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            found = seq_scans(plan)
            scanned.update(found)
            if not quiet:
                self.stdout.write(f"\n--- query {n}: {sql[:160]}…")
                self.stdout.write(plan)
        return scanned

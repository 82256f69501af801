"""`manage.py bench_accounts`: how the account list behaves with 10,000 accounts.

It creates the accounts (with stakeholders and calls) inside one transaction, signs in a
benchmark rep, requests the list through Django's test client for each page size, prints the
queries per request and the in-process p50/p95, and then ROLLS THE TRANSACTION BACK: nothing it
creates outlives the command. It still refuses to run where that would be unwise (SQLite, which
says little about production; DEBUG off, i.e. a production database) unless told otherwise.
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, BuyingRole, Contact, Team, User
from accounts.roles import Role

COUNTRIES = ["US", "GB", "DE", "FR", "JP", "CA", "BR", "IN", "NL", "CH"]
INDUSTRIES = ["541511", "522110", "622110", "311421", "334413", "221114", "455110", "517111"]


@dataclass
class Result:
    label: str
    page_size: int
    queries: int
    p50_ms: float
    p95_ms: float


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Benchmark the account list with many accounts (default 10,000) inside a transaction "
        "that is rolled back afterwards. Prints queries per request and p50/p95 per page size."
    )

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=10_000, help="Accounts to create.")
        parser.add_argument("--runs", type=int, default=50, help="Timed requests per case.")
        parser.add_argument(
            "--sizes", default="5,50", help="Comma-separated page sizes (default 5,50)."
        )
        parser.add_argument(
            "--max-p95-ms",
            type=float,
            default=50.0,
            help="With --check, the p95 every case must stay under (default 50).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with an error if the query counts differ by page size or p95 is too slow.",
        )
        parser.add_argument(
            "--allow-sqlite",
            action="store_true",
            help="Run on SQLite anyway (the figures then say little about PostgreSQL).",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run although DEBUG is off (the work is rolled back, but it loads the database).",
        )

    def handle(self, *args, accounts: int, runs: int, sizes: str, check: bool, **options):
        vendor = connection.vendor
        if vendor != "postgresql" and not options["allow_sqlite"]:
            raise CommandError(
                f"The benchmark is meant for PostgreSQL; this database is {vendor}. Point "
                "DATABASE_URL at a scratch PostgreSQL database (e.g. "
                "DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesprep_bench) or pass "
                "--allow-sqlite."
            )
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off, so this looks like a production database. The benchmark rolls "
                "back everything it writes, but it still loads the server: use a scratch "
                "database, or pass --allow-production."
            )
        try:
            page_sizes = sorted({int(size) for size in sizes.split(",") if size.strip()})
        except ValueError as exc:
            raise CommandError(f"--sizes must be numbers separated by commas: {exc}") from None
        if accounts < max(page_sizes) or runs < 1:
            raise CommandError("Use at least as many accounts as the largest page, and runs >= 1.")

        results: list[Result] = []
        marker = f"bench-{uuid.uuid4().hex[:8]}"
        try:
            with transaction.atomic():
                started = time.perf_counter()
                rep = self.create_data(marker, accounts)
                self.stdout.write(
                    f"Created {accounts:,} accounts in a transaction "
                    f"({time.perf_counter() - started:.1f} s); measuring {runs} runs per case…"
                )
                client = Client(SERVER_NAME=self.host())
                client.force_login(rep)
                for label, params, headers in (
                    ("list", {}, {}),
                    ("search", {"q": "company 0123"}, {}),
                    ("filtered", {"country": "DE", "sort": "-name"}, {}),
                    ("htmx list", {}, {"HTTP_HX_REQUEST": "true"}),
                ):
                    for size in page_sizes:
                        results.append(
                            self.measure(client, label, {**params, "per_page": size}, headers, runs)
                        )
                raise Rollback
        except Rollback:
            pass
        leftovers = Account.objects.filter(external_id__startswith=marker).exists()
        self.report(results, page_sizes, leftovers)
        if check:
            self.verify(results, options["max_p95_ms"])

    def host(self) -> str:
        hosts = [h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")]
        return hosts[0] if hosts else "localhost"

    def create_data(self, marker: str, count: int) -> User:
        team = Team.objects.create(name=f"{marker} team")
        rep = User.objects.create_user(username=f"{marker}-rep", email=f"{marker}@bench.invalid")
        rep.groups.add(Group.objects.get(name=Role.REP))
        team.members.add(rep)
        others = [User.objects.create_user(username=f"{marker}-rep{i}", email="") for i in range(4)]
        owners = [rep, *others]
        batch = [
            Account(
                name=f"Company {i:05d}",
                website=f"https://company{i}.{marker}.invalid",
                domain=f"company{i}.{marker}.invalid",
                external_id=f"{marker}-{i}",
                owner=owners[i % len(owners)],
                team=team,
                country=COUNTRIES[i % len(COUNTRIES)],
                naics_code=INDUSTRIES[i % len(INDUSTRIES)],
                hq_city=f"City {i % 97}",
                employees=(i * 37) % 50_000,
            )
            for i in range(count)
        ]
        created = Account.objects.bulk_create(batch, batch_size=2000)
        Contact.objects.bulk_create(
            [
                Contact(account=account, name=f"Person {n}", buying_role=BuyingRole.CHAMPION)
                for account in created[: count // 2]
                for n in range(2)
            ],
            batch_size=5000,
        )
        from callprep.models import Call

        now = timezone.now()
        Call.objects.bulk_create(
            [
                Call(
                    account=account,
                    owner=account.owner,
                    title="Bench call",
                    starts_at=now + timezone.timedelta(days=1 + i % 30),
                    ends_at=now + timezone.timedelta(days=1 + i % 30, hours=1),
                    ical_uid=f"{marker}-{i}@bench",
                )
                for i, account in enumerate(created[: count // 5])
            ],
            batch_size=5000,
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in ("accounts_account", "accounts_contact", "callprep_call"):
                    cursor.execute(f"ANALYZE {table}")
        return rep

    def measure(self, client, label, params, headers, runs) -> Result:
        url = reverse("accounts:list")
        for _ in range(3):  # warm up: templates, caches, plans
            client.get(url, params, secure=True, **headers)
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params, secure=True, **headers)
        query_count = len(queries)  # read now: the next request clears the query log
        if response.status_code != 200:
            raise CommandError(f"{label}: the list answered {response.status_code}.")
        timings = []
        with override_settings(DEBUG=False):  # no query logging while timing
            for _ in range(runs):
                started = time.perf_counter()
                client.get(url, params, secure=True, **headers)
                timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        return Result(label, params["per_page"], query_count, statistics.median(timings), p95)

    def report(self, results: list[Result], sizes: list[int], leftovers: bool) -> None:
        self.stdout.write("")
        self.stdout.write(f"{'case':<12}{'page':>6}{'queries':>9}{'p50 ms':>9}{'p95 ms':>9}")
        for r in results:
            self.stdout.write(
                f"{r.label:<12}{r.page_size:>6}{r.queries:>9}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}"
            )
        self.stdout.write("")
        self.stdout.write(
            "Rolled back: nothing was written." if not leftovers else "WARNING: rows were left!"
        )

    def verify(self, results: list[Result], max_p95: float) -> None:
        problems = []
        for label in dict.fromkeys(r.label for r in results):
            counts = {r.page_size: r.queries for r in results if r.label == label}
            if len(set(counts.values())) > 1:
                problems.append(f"{label}: query counts differ by page size {counts}")
        problems += [
            f"{r.label} (page {r.page_size}): p95 {r.p95_ms:.1f} ms >= {max_p95} ms"
            for r in results
            if r.p95_ms >= max_p95
        ]
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(self.style.SUCCESS("Check passed."))

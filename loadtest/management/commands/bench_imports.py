"""`manage.py bench_imports`: the CSV and calendar imports with the largest files they accept.

It builds a CSV of CSV_IMPORT_MAX_COLUMNS columns x CSV_IMPORT_MAX_ROWS rows (200 x 50,000)
and an .ics of ICS_IMPORT_MAX_EVENTS events (5,000: half of them match an account, half wait
to be assigned), then, through Django's test client (the full middleware stack), times per run:

- CSV: the upload (decode, read, the one dry run, storing its result), a GET of the preview's
  first page and of its last page, then the import the worker runs after "Import" (in total and
  its longest batch of CSV_IMPORT_BATCH_ROWS rows: one transaction in the worker);
- ICS: the upload (read, parse, the dry run, keep both), a GET of its preview, the import the
  worker runs after "Import" (in total and its longest batch of ICS_IMPORT_BATCH_EVENTS
  events), a GET of the first and of the last page of the import's result with the events to
  assign.

It prints the median of ``--runs`` runs and the queries of each GET. Every run happens inside a
transaction that is ROLLED BACK, so nothing outlives the command; like ``bench_accounts`` it
refuses SQLite and DEBUG-off databases unless told otherwise.

200 columns x 50,000 rows cannot fit in IMPORT_MAX_MEGABYTES (5 MB: 10 million cells need
10 million separators), so the command raises that limit for its own run to the size of the
file it built, and says so: the CSV figures are for more than the import accepts by default.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import importing
from accounts.models import Account, ImportFile, ImportState, Team, User
from accounts.roles import Role, ensure_roles
from callprep import services
from callprep.models import CalendarImport, Call

CSV_COLUMNS = [
    "Account Name",
    "Website",
    "Billing Country",
    "Industry",
    "Employees",
    "First Name",
    "Last Name",
    "Email",
]


class Rollback(Exception):
    pass


def build_csv(rows: int, columns: int, marker: str) -> bytes:
    extra = columns - len(CSV_COLUMNS)
    header = CSV_COLUMNS[:columns] + [f"Extra {n}" for n in range(max(0, extra))]
    filler = "," * max(0, extra)
    lines = [",".join(header)]
    for n in range(rows):
        values = [
            f"Bench {marker} {n}",
            f"bench-{marker}-{n}.example",
            "Germany",
            "Software",
            str(100 + n % 900),
            "Pat",
            f"Buyer{n}",
            f"pat{n}@bench-{marker}-{n}.example",
        ][:columns]
        lines.append(",".join(values) + filler)
    return ("\n".join(lines) + "\n").encode()


def build_ics(events: int, domain: str) -> bytes:
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=30)
    parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//SalesPrep//bench//EN"]
    for n in range(events):
        when = (start + dt.timedelta(hours=n)).astimezone(dt.UTC)
        attendee = f"dana@{domain}" if n % 2 == 0 else f"someone{n}@unknown-prospect.example"
        parts += [
            "BEGIN:VEVENT",
            f"UID:bench-{n}@{domain}",
            f"SUMMARY:Bench meeting {n}",
            f"DTSTART:{when:%Y%m%dT%H%M%SZ}",
            f"DTEND:{when + dt.timedelta(minutes=45):%Y%m%dT%H%M%SZ}",
            f"ATTENDEE;CN=Guest:mailto:{attendee}",
            "END:VEVENT",
        ]
    parts.append("END:VCALENDAR")
    return ("\r\n".join(parts) + "\r\n").encode()


class Command(BaseCommand):
    help = (
        "Time the CSV and .ics imports with the largest files they accept (upload, preview GET, "
        "result GET; median of --runs), inside transactions that are rolled back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=3, help="Timed runs per case (3).")
        parser.add_argument("--csv-rows", type=int, help="Rows (default CSV_IMPORT_MAX_ROWS).")
        parser.add_argument(
            "--csv-columns", type=int, help="Columns (default CSV_IMPORT_MAX_COLUMNS)."
        )
        parser.add_argument("--events", type=int, help="Events (default ICS_IMPORT_MAX_EVENTS).")
        parser.add_argument("--skip-csv", action="store_true", help="Only the calendar import.")
        parser.add_argument("--skip-ics", action="store_true", help="Only the CSV import.")
        parser.add_argument("--allow-sqlite", action="store_true", help="Run on SQLite anyway.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run although DEBUG is off (the work is rolled back, but it loads the database).",
        )

    def handle(self, *args, runs: int, **options):
        vendor = connection.vendor
        if vendor != "postgresql" and not options["allow_sqlite"]:
            raise CommandError(
                f"The benchmark is meant for PostgreSQL; this database is {vendor}. Point "
                "DATABASE_URL at a scratch PostgreSQL database or pass --allow-sqlite."
            )
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off, so this looks like a production database. The benchmark rolls "
                "back everything it writes, but it still loads the server: use a scratch "
                "database, or pass --allow-production."
            )
        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        rows = options["csv_rows"] or settings.CSV_IMPORT_MAX_ROWS
        columns = options["csv_columns"] or settings.CSV_IMPORT_MAX_COLUMNS
        events = options["events"] or settings.ICS_IMPORT_MAX_EVENTS
        marker = uuid.uuid4().hex[:8]
        self.stdout.write(f"database: {vendor} ({settings.DATABASES['default'].get('NAME')})")
        no_limits = {"csv_import": None, "ics_import": None}
        with override_settings(
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], REQUEST_RATE_LIMITS=no_limits
        ):
            try:
                with transaction.atomic():
                    rep, domain = self.create_rep(marker)
                    client = Client()
                    client.force_login(rep)
                    client.bench_user = rep.username
                    if not options["skip_csv"]:
                        self.bench_csv(client, build_csv(rows, columns, marker), runs, rows)
                    if not options["skip_ics"]:
                        self.bench_ics(client, build_ics(events, domain), runs, events)
                    raise Rollback
            except Rollback:
                pass
        leftovers = Account.objects.filter(name__startswith=f"Bench {marker}").exists()
        self.stdout.write(
            "Rolled back: nothing was written." if not leftovers else "LEFTOVERS in the database!"
        )

    def create_rep(self, marker: str) -> tuple[User, str]:
        ensure_roles()
        rep = User.objects.create_user(username=f"bench-imports-{marker}", first_name="Bench")
        rep.groups.set(Group.objects.filter(name=str(Role.REP)))
        team = Team.objects.create(name=f"bench-imports-{marker}")
        team.members.add(rep)
        domain = f"bench-{marker}.example"
        Account.objects.create(name=f"Bench {marker} matched", domain=domain, owner=rep, team=team)
        return rep, domain

    def timed(self, run):
        started = time.perf_counter()
        response = run()
        return response, (time.perf_counter() - started) * 1000

    def get(self, client, url, params=None) -> tuple[float, int]:
        connection.queries_log.clear()  # the upload filled it past its 9,000 entries
        with CaptureQueriesContext(connection) as queries:
            response, elapsed = self.timed(lambda: client.get(url, params or {}))
        count = len(queries)  # read now: the next request clears the query log
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}.")
        return elapsed, count

    def bench_csv(self, client, body: bytes, runs: int, rows: int) -> None:
        megabytes = math.ceil(len(body) / 1024 / 1024)
        self.stdout.write(
            f"\nCSV: {rows:,} rows, {body.split(b'\n', 1)[0].count(b',') + 1} columns, "
            f"{len(body) / 1024 / 1024:.1f} MB"
            + (
                f" (over IMPORT_MAX_MEGABYTES={settings.IMPORT_MAX_MEGABYTES}: raised to "
                f"{megabytes} for this run)"
                if megabytes > settings.IMPORT_MAX_MEGABYTES
                else ""
            )
        )
        last_page = math.ceil(rows / 100)
        uploads, firsts, lasts, queries, imports, longest = [], [], [], [], [], []
        with override_settings(IMPORT_MAX_MEGABYTES=max(megabytes, settings.IMPORT_MAX_MEGABYTES)):
            for n in range(runs):
                try:
                    with transaction.atomic():
                        upload = SimpleUploadedFile("bench.csv", body, "text/csv")
                        response, elapsed = self.timed(
                            lambda upload=upload: client.post(
                                reverse("accounts:import"), {"file": upload}
                            )
                        )
                        if response.status_code != 302:
                            raise CommandError(
                                f"The CSV upload answered {response.status_code}: "
                                f"{response.content.decode()[:500]}"
                            )
                        uploads.append(elapsed)
                        url = response["Location"]
                        first, first_queries = self.get(client, url)
                        last, last_queries = self.get(client, url, {"page": last_page})
                        firsts.append(first)
                        lasts.append(last)
                        queries.append((first_queries, last_queries))
                        stored = ImportFile.objects.get(pk=url.rstrip("/").rsplit("/", 1)[1])
                        self.stdout.write(
                            f"  run {n + 1}: upload {elapsed / 1000:.1f} s "
                            f"({stored.created_count:,} new, {stored.failed_count:,} errors), "
                            f"preview page 1 {first:.0f} ms, page {last_page} {last:.0f} ms"
                        )
                        total, batches = self.import_in_worker(client, url, stored)
                        imports.append(total)
                        longest.append(max(batches))
                        self.stdout.write(
                            f"  run {n + 1}: import (the worker's task) {total / 1000:.1f} s in "
                            f"{len(batches)} batches of {settings.CSV_IMPORT_BATCH_ROWS} rows, "
                            f"longest batch {max(batches):.0f} ms"
                        )
                        raise Rollback
                except Rollback:
                    pass
        self.summary("CSV", uploads, "preview", firsts, lasts, queries)
        self.stdout.write(
            f"CSV import median of {len(imports)}: {statistics.median(imports) / 1000:.2f} s, "
            f"longest batch {statistics.median(longest):.0f} ms"
        )

    def import_in_worker(self, client, url, stored) -> tuple[float, list[float]]:
        """Press Import, then run what the worker runs (the batches are savepoints of the
        benchmark's transaction here); the time of the whole and of each batch, in ms."""
        data = {f"col_{i}": t for i, t in enumerate(stored.mapping)} | {"action": "import"}
        if stored.team_id:
            data["team"] = stored.team_id
        response = client.post(url, data)
        if response.status_code != 302:
            raise CommandError(f"Import answered {response.status_code}.")
        batches = []
        run_batch = importing.import_batch

        def timed_batch(*args, **kwargs):
            started = time.perf_counter()
            run_batch(*args, **kwargs)
            batches.append((time.perf_counter() - started) * 1000)

        importing.import_batch = timed_batch
        try:
            _, total = self.timed(lambda: importing.run_queued_import(stored.pk))
        finally:
            importing.import_batch = run_batch
        stored.refresh_from_db()
        if stored.state != ImportState.DONE:
            raise CommandError(f"The import ended {stored.state}: {stored.error}")
        return total, batches

    def bench_ics(self, client, body: bytes, runs: int, events: int) -> None:
        self.stdout.write(f"\nICS: {events:,} events, {len(body) / 1024 / 1024:.1f} MB")
        uploads, firsts, lasts, queries, imports, longest = [], [], [], [], [], []
        previews = []
        for n in range(runs):
            try:
                with transaction.atomic():
                    upload = SimpleUploadedFile("bench.ics", body, "text/calendar")
                    response, elapsed = self.timed(
                        lambda upload=upload: client.post(
                            reverse("callprep:calendar_import"), {"file": upload}
                        )
                    )
                    if response.status_code != 302:
                        raise CommandError(
                            f"The .ics upload answered {response.status_code}: "
                            f"{response.content.decode()[:500]}"
                        )
                    uploads.append(elapsed)
                    url = response["Location"]
                    pending = CalendarImport.objects.get(pk=url.rstrip("/").rsplit("/", 1)[1])
                    preview, _ = self.get(client, url)
                    previews.append(preview)
                    pressed = client.post(url, {"action": "import"})
                    if pressed.status_code != 302:
                        raise CommandError(f"Import answered {pressed.status_code}.")
                    total, batches = self.import_calendar_in_worker(pending)
                    imports.append(total)
                    longest.append(max(batches))
                    pending.refresh_from_db()
                    last_page = max(1, math.ceil(len(pending.events) / 100))
                    first, first_queries = self.get(client, url)
                    last, last_queries = self.get(client, url, {"page": last_page})
                    firsts.append(first)
                    lasts.append(last)
                    queries.append((first_queries, last_queries))
                    calls = Call.objects.filter(owner__username=client.bench_user).count()
                    self.stdout.write(
                        f"  run {n + 1}: upload {elapsed / 1000:.1f} s, preview page 1 "
                        f"{preview:.0f} ms, import (the worker's "
                        f"task) {total / 1000:.1f} s in {len(batches)} batches of "
                        f"{settings.ICS_IMPORT_BATCH_EVENTS} events, longest batch "
                        f"{max(batches):.0f} ms ({calls:,} calls, {len(pending.events):,} to "
                        f"assign), result page 1 {first:.0f} ms, page {last_page} {last:.0f} ms"
                    )
                    raise Rollback
            except Rollback:
                pass
        self.summary("ICS", uploads, "result", firsts, lasts, queries)
        self.stdout.write(f"ICS preview GET page 1 median: {statistics.median(previews):.1f} ms")
        self.stdout.write(
            f"ICS import median of {len(imports)}: {statistics.median(imports) / 1000:.2f} s, "
            f"longest batch {statistics.median(longest):.0f} ms"
        )

    def import_calendar_in_worker(self, pending) -> tuple[float, list[float]]:
        """Run what the worker runs with a calendar upload; the time of the whole and of each
        batch, in ms."""
        batches = []
        run_batch = services.import_event_batch

        def timed_batch(*args, **kwargs):
            started = time.perf_counter()
            run_batch(*args, **kwargs)
            batches.append((time.perf_counter() - started) * 1000)

        services.import_event_batch = timed_batch
        try:
            _, total = self.timed(lambda: services.run_calendar_import(pending.pk))
        finally:
            services.import_event_batch = run_batch
        pending.refresh_from_db()
        if pending.state != ImportState.DONE:
            raise CommandError(f"The calendar import ended {pending.state}: {pending.error}")
        return total, batches

    def summary(self, label, uploads, page, firsts, lasts, queries) -> None:
        self.stdout.write(
            f"{label} median of {len(uploads)}: upload {statistics.median(uploads) / 1000:.2f} s, "
            f"{page} GET page 1 {statistics.median(firsts):.1f} ms, last page "
            f"{statistics.median(lasts):.1f} ms; queries per GET "
            f"{max(q for pair in queries for q in pair)}"
        )

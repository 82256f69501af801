"""Accounts with recorded evidence, and the check that each ended with exactly one set of it."""

from __future__ import annotations

from accounts.models import Account, Team
from callprep.evidence import clients
from callprep.evidence.models import CollectionRun, Evidence, RunState, SourceRun

# name, ticker, NAICS, country, website: every source they use has recordings.
ACCOUNTS = [
    ("Northwind Robotics Inc.", "NWRB", "333998", "US", "https://northwind-robotics.example"),
    ("Halvorsen Maritime ASA", "HALV", "483111", "NO", "https://halvorsen.example"),
    ("Northwind Freight Inc.", "ZXNW", "484121", "US", "https://www.northwind.example"),
    ("Helio Grid Power Corp.", "ZXHG", "221114", "US", "https://www.helio.example"),
    ("Kestrel Semiconductor Ltd.", "", "334413", "GB", "https://www.kestrel.example"),
    ("Tidewater Insurance Co.", "ZXTW", "524126", "US", "https://www.tidewater.example"),
]


def make_accounts(owner, count: int = len(ACCOUNTS)) -> list[Account]:
    team = Team.objects.get_or_create(name="East")[0]
    return [
        Account.objects.create(
            name=name,
            ticker=ticker,
            naics_code=naics,
            country=country,
            website=website,
            domain=website.split("//", 1)[1].removeprefix("www."),
            owner=owner,
            team=team,
        )
        for name, ticker, naics, country, website in ACCOUNTS[:count]
    ]


def expected_keys(account: Account, collector: str) -> set[tuple[str, str]]:
    """What a clean collection of ``collector`` stores for the account, fetched here and now."""
    collected = clients.COLLECTORS[collector](account)
    return {(row.source, row.key) for row in collected.rows}


def open_sources() -> str:
    rows = SourceRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING])
    return ", ".join(
        f"{s.run.account.name}/{s.source}={s.state} (attempts {s.attempts})"
        for s in rows.select_related("run__account")
    )


def all_runs_finished(accounts: list[Account]) -> bool:
    runs = CollectionRun.objects.filter(account__in=accounts)
    return runs.count() >= len(accounts) and not runs.filter(finished_at__isnull=True).exists()


def check_one_set(accounts: list[Account]) -> tuple[list[str], int, int]:
    """Problems found, and the numbers of evidence rows missing and extra over all accounts.

    "One set" per account: one finished run; every source it queued succeeded; the account's
    evidence for each source is exactly what a clean collection stores (none missing, none
    extra, each once), belongs to that run, and is the count the source run reports.
    """
    problems: list[str] = []
    missing_total = extra_total = 0
    for account in accounts:
        runs = list(CollectionRun.objects.filter(account=account))
        if len(runs) != 1:
            problems.append(f"{account.name}: {len(runs)} runs")
            continue
        run = runs[0]
        if run.finished_at is None:
            problems.append(f"{account.name}: run not finished")
        for source_run in run.sources.all():
            stored = list(
                Evidence.objects.filter(account=account, collector=source_run.source).values_list(
                    "source", "key", "run_id"
                )
            )
            keys = [(source, key) for source, key, _ in stored]
            if source_run.state == RunState.SKIPPED:
                if stored:
                    problems.append(f"{account.name}/{source_run.source}: skipped but has rows")
                continue
            if source_run.state != RunState.SUCCEEDED:
                problems.append(
                    f"{account.name}/{source_run.source}: {source_run.state} "
                    f"({source_run.reason}, attempts {source_run.attempts})"
                )
            expected = expected_keys(account, source_run.source)
            missing, extra = expected - set(keys), set(keys) - expected
            duplicates = len(keys) - len(set(keys))
            missing_total += len(missing)
            extra_total += len(extra) + duplicates
            if missing or extra or duplicates:
                problems.append(
                    f"{account.name}/{source_run.source}: {len(missing)} missing, "
                    f"{len(extra)} extra, {duplicates} duplicated"
                )
            if not expected:
                problems.append(f"{account.name}/{source_run.source}: recordings give no rows")
            if source_run.rows != len(keys):
                problems.append(
                    f"{account.name}/{source_run.source}: run says {source_run.rows} rows, "
                    f"{len(keys)} stored"
                )
            if any(run_id != run.pk for *_, run_id in stored):
                problems.append(f"{account.name}/{source_run.source}: rows of another run")
    return problems, missing_total, extra_total


def make_call(account: Account, *, days: int = 3):
    from datetime import timedelta

    from django.utils import timezone

    from callprep.models import Call

    starts = timezone.now().replace(second=0, microsecond=0) + timedelta(days=days)
    return Call.objects.create(
        account=account,
        owner=account.owner,
        title=f"Call with {account.name}",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )

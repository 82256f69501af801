"""`manage.py import_evidence ACCOUNT FILE --source SOURCE`: load a downloaded file (offline or
air-gapped use) through the same parsers the worker uses."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from callprep.evidence.collect import import_rows
from callprep.management.commands.parse_source import parse_file
from callprep.sources import PARSERS

# The collector that keeps rows of each parser's source, as the worker would.
COLLECTOR = {
    "sec-companyfacts": "sec",
    "sec-submissions": "sec",
    "fred-json": "fred",
    "fred-csv": "fred",
    "worldbank": "worldbank",
    "feed": "news",
    "gdelt": "news",
}


def find_account(ref: str) -> Account:
    found = Account.objects.filter(pk=int(ref)) if ref.isdigit() else Account.objects.none()
    if not found:
        found = Account.objects.filter(ticker__iexact=ref) or Account.objects.filter(
            name__iexact=ref
        )
    if len(found) != 1:
        raise CommandError(f"No single account matches {ref!r}: give its id, ticker or exact name.")
    return found[0]


class Command(BaseCommand):
    help = "Import evidence for an account from a downloaded source file."

    def add_arguments(self, parser):
        parser.add_argument("account", help="The account's id, ticker or exact name.")
        parser.add_argument("file")
        parser.add_argument(
            "--source", required=True, choices=sorted(COLLECTOR), help="The file's format."
        )
        parser.add_argument("--series", help="The FRED series id for fred-json files.")

    def handle(self, *args, account: str, file: str, source: str, series, **options):
        if source not in PARSERS:  # pragma: no cover - argparse checks the choices
            raise CommandError(f"Unknown source {source!r}")
        target = find_account(account)
        rows = parse_file(source, file, series)
        if not rows:
            raise CommandError(f"{file} holds no evidence rows for {source}.")
        run = import_rows(target, COLLECTOR[source], rows)
        kept = run.sources.get().rows
        self.stdout.write(
            self.style.SUCCESS(f"Imported {kept} evidence rows from {file} into {target.name}.")
        )

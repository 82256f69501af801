"""`manage.py parse_source SOURCE FILE`: print a downloaded file's evidence as JSON lines."""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from callprep.sources import PARSERS, ParseError


def series_from_name(file: Path) -> str | None:
    """A FRED series id guessed from a file name such as ``fred-FEDFUNDS.json``."""
    words = [w for w in re.split(r"[-_. ]+", file.stem) if w]
    words = [w for w in words if w.lower() not in {"fred", "observations", "series", "json"}]
    return words[0].upper() if words else None


def parse_file(source: str, path: str, series: str | None = None):
    """Rows parsed from a file by the named parser (shared with ``import_evidence``)."""
    if source not in PARSERS:
        raise CommandError(f"Unknown source {source!r}. Choose one of: {', '.join(PARSERS)}.")
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"No such file: {path}")
    parser = PARSERS[source]
    if source == "fred-json":
        parser = partial(parser, series_id=series or series_from_name(file))
    elif series and source == "fred-csv":
        parser = partial(parser, series_id=series)
    try:
        return parser(file.read_bytes())
    except ParseError as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = "Parse a downloaded source file and print one JSON object per evidence row."

    def add_arguments(self, parser):
        parser.add_argument("source", help=f"One of: {', '.join(PARSERS)}.")
        parser.add_argument("file")
        parser.add_argument(
            "--series", help="The FRED series id (fred-json files do not name their series)."
        )

    def handle(self, *args, source: str, file: str, series: str | None, **options):
        for row in parse_file(source, file, series):
            self.stdout.write(json.dumps(row.to_json(), ensure_ascii=False))

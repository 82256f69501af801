"""The application's code keeps to public Django and keeps business rules out of the database.

Reads every Python file of the project (tests, the virtualenv and the migrations that drop the
old triggers aside) and fails on a trigger definition or on Django internals that an upgrade
may change without notice.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "callprep", "salesprep", "loadtest")
FORBIDDEN = re.compile(
    r"CREATE\s+TRIGGER|klass_info|get_related_populators|_fetch_mode|_raw_delete", re.I
)
# Migration 0012 only drops the triggers that earlier versions of 0008-0010 created.
DROPS_OLD_TRIGGERS = {ROOT / "callprep" / "migrations" / "0012_rules_in_python.py"}


def sources():
    for app in APPS:
        yield from (p for p in (ROOT / app).rglob("*.py") if p not in DROPS_OLD_TRIGGERS)


def test_the_scan_reads_the_application():
    files = list(sources())
    assert any(p.name == "models.py" for p in files) and len(files) > 50


def test_no_trigger_and_no_private_django_api_in_the_application():
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sources()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_dropping_migration_only_drops():
    text = next(iter(DROPS_OLD_TRIGGERS)).read_text()
    assert "DROP TRIGGER IF EXISTS" in text
    assert not re.search(r"CREATE\s+(OR\s+REPLACE\s+)?(TRIGGER|FUNCTION)", text, re.I)


def test_no_template_prints_a_literal_utc():
    found = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if re.search(r"\bUTC\b", path.read_text())
    ]
    assert not found

"""The rule tests run on the embedded SQLite default too, through ``migrate``.

On PostgreSQL this test runs every module of tests/rules again in a subprocess with
``tests.settings_sqlite``, where pytest-django creates the database with the migrations (no
raw SQL), and expects every test to pass. Inside that run, this same test checks that it is on
SQLite, that the migrations made the database and that no trigger is left in it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from tests.helpers import ROOT, project_env

pytestmark = pytest.mark.django_db

HERE = Path(__file__).resolve().parent
MARK = "SALESPREP_SQLITE_RUN_MARK"


def test_the_rule_tests_pass_on_the_embedded_sqlite_default(tmp_path):
    if connection.vendor == "sqlite":
        _check_this_sqlite_database()
        return
    mark = tmp_path / "ran-on"
    env = project_env(DJANGO_SETTINGS_MODULE="tests.settings_sqlite", **{MARK: str(mark)})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout.strip().splitlines()
    summary = output[-1] if output else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # Every test collected there passed: nothing failed, was skipped or deselected.
    assert re.fullmatch(r"=*\s*\d+ passed(, \d+ warnings?)? in [\d.]+s.*", summary), summary
    assert mark.read_text() == "sqlite"


def _check_this_sqlite_database() -> None:
    applied = MigrationRecorder(connection).applied_migrations()
    assert ("callprep", "0013_brief_customer_is_the_calls") in applied
    assert ("accounts", "0007") in {(app, name[:4]) for app, name in applied}
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert cursor.fetchall() == []
    if os.environ.get(MARK):
        Path(os.environ[MARK]).write_text(connection.vendor)

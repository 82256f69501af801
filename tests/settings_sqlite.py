"""The test settings on SQLite, the embedded default: ``DJANGO_SETTINGS_MODULE=
tests.settings_sqlite pytest tests/rules``. The test database is created by ``migrate``, as
for PostgreSQL (Django keeps a SQLite test database in memory); only the database differs
from tests/settings.py.
"""

import os
import tempfile
from pathlib import Path

os.environ["DATABASE_URL"] = "sqlite:///" + str(
    Path(tempfile.gettempdir()) / "salesprep-test.sqlite3"
)

from tests.settings import *  # noqa: F403

"""Test settings: the project's settings, pointed at PostgreSQL and Redis on localhost.

Only defaults are set here; DATABASE_URL and REDIS_URL in the environment still win (CI and the
compose stack use the same names). Everything else comes from salesprep/settings.py.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesprep")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CACHE_KEY_PREFIX", f"salesprep-test-{os.getpid()}")

from salesprep.settings import *  # noqa: F403

# The load-data and benchmark commands live in an app the product does not install; their
# tests need it (tests/accounts/test_bench_command.py, tests/dashboard/test_load_data.py, …).
INSTALLED_APPS = [*INSTALLED_APPS, "loadtest"]  # noqa: F405
# Fast hashing: tests create many users; production keeps Django's default hashers.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the source folders, as the dev server does, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Each run gets its own queue, so messages left by an earlier run can never be consumed here.
CELERY_TASK_DEFAULT_QUEUE = f"salesprep-test-{os.getpid()}"
# Close connections after each request and task, so that threads (live server, test worker)
# leave none open when the test database is dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

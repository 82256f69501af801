"""The product's settings, plus the load-test app and the load test's own Celery queue.

Two things differ from salesprep/settings.py: the ``loadtest`` app is installed (its management
commands fill scratch databases and measure: generate_load_data, loadtest_seed, bench_*), and a
run has a queue of its own (so it never consumes nor leaves messages on a queue someone else
uses). Everything else is salesprep/settings.py read from the environment: run.py turns DEBUG
off, so a load test runs what production runs (SSL redirect, secure cookies, PBKDF2 passwords,
WhiteNoise's manifest storage); the benchmarks run with whatever the shell sets.
"""

import os

from salesprep.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "loadtest"]  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("LOADTEST_QUEUE", "celery")

"""The production settings, with the load test's own Celery queue.

Only the queue differs from salesprep/settings.py (so a run never consumes nor leaves messages
on a queue someone else uses); everything else — DEBUG off, SSL redirect, secure cookies,
PBKDF2 passwords, WhiteNoise's manifest storage — is what production runs.
"""

import os

from salesprep.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("LOADTEST_QUEUE", "celery")

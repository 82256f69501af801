"""Settings for the processes the fault tests start (Celery workers, gunicorn).

The test settings, plus what the in-process evidence tests set through the ``settings`` fixture
(replayed recordings, no rate limits, no task retries), and a few values the test passes in the
environment: the queue the test enqueues to, how long a connection is kept, and how soon the
sweep treats a source run as stale.
"""

import os

from tests.helpers import replayed_evidence_settings
from tests.settings import *  # noqa: F403

# The test process names its queue after its own pid (tests/settings.py); use the same one.
CELERY_TASK_DEFAULT_QUEUE = os.environ["FAULTS_QUEUE"]
# Production keeps connections (CONN_MAX_AGE 60 with health checks); the fault tests check that
# a terminated connection is noticed and replaced.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("FAULTS_CONN_MAX_AGE", "0"))  # noqa: F405

globals().update(replayed_evidence_settings())
EVIDENCE_STALE_QUEUED_SECONDS = int(os.environ.get("FAULTS_STALE_QUEUED_SECONDS", "180"))
EVIDENCE_STALE_RUNNING_SECONDS = int(os.environ.get("FAULTS_STALE_RUNNING_SECONDS", "600"))

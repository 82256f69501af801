"""Thin Celery tasks: each takes ids and calls one domain function in ``collect``.

``collect_source_task`` retries, with exponential backoff and jitter, only when the source
failed transiently (timeouts, 429, 5xx); the claim in ``collect_source`` makes a duplicate
delivery a no-op, and lets a redelivered message (its worker died mid-task) take over the run
the dead worker left "running". Time limits sit below the global ones so a slow source fails
readably, and so below the broker's visibility timeout (see salesprep/settings.py): a message is
redelivered only once the worker that had it is gone.
"""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from . import collect
from .clients import TransientFailure


def retry_countdown(retries: int) -> float:
    base = getattr(settings, "EVIDENCE_TASK_RETRY_SECONDS", 30.0)
    delay = min(600.0, base * (2**retries))
    return delay / 2 + random.uniform(0, delay / 2)


def _limits(soft: int, hard: int) -> dict[str, int]:
    """The task's own limits, never above the global ones (which the settings check against
    the visibility timeout)."""
    return {
        "soft_time_limit": min(soft, settings.CELERY_TASK_SOFT_TIME_LIMIT),
        "time_limit": min(hard, settings.CELERY_TASK_TIME_LIMIT),
    }


@shared_task(bind=True, max_retries=None, **_limits(90, 120))
def collect_source_task(self, source_run_id: int) -> str:
    max_retries = getattr(settings, "EVIDENCE_TASK_RETRIES", 2)
    final = self.request.retries >= max_retries
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    try:
        return collect.collect_source(source_run_id, final_attempt=final, redelivered=redelivered)
    except TransientFailure as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc


@shared_task(**_limits(60, 90))
def sweep_stale_runs() -> int:
    return collect.sweep_stale_runs()


@shared_task(**_limits(60, 90))
def refresh_due_accounts() -> int:
    return collect.refresh_due_accounts()

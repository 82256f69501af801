"""Thin Celery tasks: each takes ids and calls one domain function in ``collect``.

``collect_source_task`` retries, with exponential backoff and jitter, only when the source
failed transiently (timeouts, 429, 5xx); the claim in ``collect_source`` makes a duplicate
delivery a no-op. Time limits sit below the global ones so a slow source fails readably.
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


@shared_task(bind=True, soft_time_limit=90, time_limit=120, max_retries=None)
def collect_source_task(self, source_run_id: int) -> str:
    max_retries = getattr(settings, "EVIDENCE_TASK_RETRIES", 2)
    final = self.request.retries >= max_retries
    try:
        return collect.collect_source(source_run_id, final_attempt=final)
    except TransientFailure as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_stale_runs() -> int:
    return collect.sweep_stale_runs()


@shared_task(soft_time_limit=60, time_limit=90)
def refresh_due_accounts() -> int:
    return collect.refresh_due_accounts()

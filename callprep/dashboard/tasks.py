"""Thin Celery task for the dashboard's read model.

Beat runs ``reconcile_call_facts`` (see CELERY_BEAT_SCHEDULE): it repairs any call fact a bulk
write went around, and writes nothing when the rows are right, so running it often is cheap.
"""

from __future__ import annotations

from celery import shared_task

from callprep.dashboard import facts


@shared_task(soft_time_limit=600, time_limit=660)
def reconcile_call_facts() -> dict[str, int]:
    return facts.reconcile_call_facts()

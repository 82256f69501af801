"""Thin Celery tasks for the review workflow: each takes ids and calls one domain function.

Beat runs ``send_reminders`` (see CELERY_BEAT_SCHEDULE); running it twice sends nothing twice.
``send_notification_email`` claims its notification before sending, so a duplicate delivery
is a no-op; it retries with backoff when the mail server fails.
"""

from __future__ import annotations

from celery import shared_task

from accounts import mail
from callprep.review import notify, reminders


@shared_task(bind=True, **mail.SEND_TASK_OPTIONS)
def send_notification_email(self, notification_id: int) -> bool:
    return notify.send_email(notification_id)


@shared_task(soft_time_limit=120, time_limit=180)
def send_reminders() -> dict[str, int]:
    return reminders.send_reminders()

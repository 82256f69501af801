from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from callprep import services
from callprep.models import WorkerHeartbeat


@shared_task(bind=True)
def record_worker_heartbeat(self, name: str = "worker") -> int:
    """Record that a worker is alive and consuming; safe to run any number of times."""
    hostname = getattr(self.request, "hostname", "") or ""
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(name=name).update(
        beat_at=now, hostname=hostname, beats=F("beats") + 1
    )
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            name=name, defaults={"beat_at": now, "hostname": hostname, "beats": 1}
        )
    return WorkerHeartbeat.objects.get(name=name).beats


@shared_task(soft_time_limit=1800, time_limit=1900)
def import_calendar_upload(pk: int) -> bool:
    """Import the events of a calendar upload; running it twice imports them once."""
    return services.run_calendar_import(pk)

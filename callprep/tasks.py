from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

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

"""A real Celery worker consuming from Redis runs our tasks end to end."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from callprep.models import WorkerHeartbeat
from callprep.tasks import record_worker_heartbeat
from salesprep.celery import app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_worker():
    assert app.conf.broker_url.startswith("redis://"), "integration tests run on Redis"
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_task_enqueued_on_commit_runs_in_the_worker(celery_worker):
    with transaction.atomic():
        transaction.on_commit(lambda: record_worker_heartbeat.delay("integration"))
        # Nothing is sent while the transaction is open.
        assert not WorkerHeartbeat.objects.filter(name="integration").exists()

    assert wait_for(lambda: WorkerHeartbeat.objects.filter(name="integration").exists())
    beat = WorkerHeartbeat.objects.get(name="integration")
    assert beat.beats == 1
    assert beat.hostname  # set from the worker's request context


def test_running_the_heartbeat_twice_updates_one_row(celery_worker):
    record_worker_heartbeat.delay("twice")
    record_worker_heartbeat.delay("twice")
    assert wait_for(lambda: WorkerHeartbeat.objects.filter(name="twice", beats=2).exists())
    assert WorkerHeartbeat.objects.filter(name="twice").count() == 1


def test_the_worker_is_configured_for_safe_redelivery():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit < visibility

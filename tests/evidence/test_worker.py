"""A real Celery worker on Redis collects evidence through the replay transport."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.utils import timezone

from callprep.evidence import collect
from callprep.evidence import tasks as evidence_tasks
from callprep.evidence.models import CollectionRun, Evidence, SourceRun
from salesprep.celery import app

from .conftest import fail

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_worker():
    assert app.conf.broker_url.startswith("redis://"), "integration tests run on Redis"
    assert evidence_tasks.collect_source_task.name in app.tasks
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def wait_for_run(run: CollectionRun, timeout: float = 30.0) -> CollectionRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished_at is not None:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run did not finish: {[str(s) for s in run.sources.all()]}")


def outcome(run: CollectionRun) -> dict[str, str]:
    return {s.source: s.state for s in run.sources.all()}


def evidence_snapshot():
    return sorted(Evidence.objects.values_list("pk", "source", "key", "value", "period_end"))


def test_the_worker_collects_every_source_for_an_account(celery_worker, halvorsen):
    with transaction.atomic():
        run = collect.start_collection(halvorsen, trigger="brief")
    run = wait_for_run(run)
    assert outcome(run) == dict.fromkeys(
        ["sec", "fred", "worldbank", "news", "website"], "succeeded"
    )
    assert all(s.attempts == 1 and s.started_at and s.finished_at for s in run.sources.all())
    kinds = set(Evidence.objects.filter(account=halvorsen).values_list("kind", flat=True))
    assert {"financial", "filing", "indicator", "news", "web"} <= kinds


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ({"status": 500}, "server error (500)"),
        ({"status": 429}, "limiting our requests (429"),
        ({"timeout": True}, "took too long to answer"),
        ({"body": "\x00\x01 not json at all"}, "returned something that is not JSON"),
    ],
    ids=["500", "429", "timeout", "garbage"],
)
def test_a_failing_source_fails_readably_while_the_others_succeed(
    celery_worker, northwind, settings, route, reason
):
    settings.EVIDENCE_REPLAY_ROUTES = [fail("data.sec.gov", **route)]
    run = wait_for_run(collect.start_collection(northwind))
    assert outcome(run) == {
        "sec": "failed",
        "fred": "succeeded",
        "worldbank": "skipped",
        "news": "succeeded",
        "website": "succeeded",
    }
    assert reason in run.sources.get(source="sec").reason
    assert Evidence.objects.filter(account=northwind, collector="fred").exists()


def test_a_transient_failure_is_retried_by_the_task_with_backoff(
    celery_worker, northwind, settings
):
    settings.EVIDENCE_TASK_RETRIES = 1
    settings.EVIDENCE_TASK_RETRY_SECONDS = 0.05
    settings.EVIDENCE_REPLAY_ROUTES = [fail("data.sec.gov", status=503)]
    run = wait_for_run(collect.start_collection(northwind, sources=["sec"]))
    sec = run.sources.get()
    assert sec.state == "failed"
    assert sec.attempts == 2  # the first attempt, and one retry by the task


def test_two_runs_in_the_worker_leave_the_same_evidence(celery_worker, northwind):
    wait_for_run(collect.start_collection(northwind))
    first = evidence_snapshot()
    assert first
    CollectionRun.objects.update(created_at=timezone.now() - timedelta(days=1))
    wait_for_run(collect.start_collection(northwind))
    assert evidence_snapshot() == first


def test_a_run_whose_tasks_were_lost_is_finished_after_the_sweep(
    celery_worker, northwind, monkeypatch
):
    monkeypatch.setattr(collect, "_enqueue", lambda ids: None)  # the broker was down
    run = collect.start_collection(northwind, sources=["news", "website"])
    monkeypatch.undo()
    SourceRun.objects.update(enqueued_at=timezone.now() - timedelta(minutes=10))
    assert evidence_tasks.sweep_stale_runs.delay() is not None
    run = wait_for_run(run)
    assert outcome(run) == {"news": "succeeded", "website": "succeeded"}

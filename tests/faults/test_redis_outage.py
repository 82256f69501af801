"""Redis goes away: stopped when a brief is committed, restarted in the middle of a collection.

Each test runs its own redis-server (the shared one on 6379 is never touched) with this process
and a real worker process pointed at it.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import Max
from django.utils import timezone

from callprep.briefs.models import Brief
from callprep.briefs.services import start_brief
from callprep.evidence import collect
from callprep.evidence import tasks as evidence_tasks
from callprep.evidence.models import CollectionRun, RunState, SourceRun

from .conftest import process_env, wait_until
from .evidence import all_runs_finished, check_one_set, make_accounts, make_call, open_sources

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STALE_QUEUED_SECONDS = 2


def test_a_brief_committed_while_redis_is_down_is_saved_and_collected_once_redis_is_back(
    alice, private_redis, processes, tally
):
    accounts = make_accounts(alice, 2)
    calls = [make_call(account) for account in accounts]
    env = process_env(
        private_redis.url,
        FAULTS_STALE_QUEUED_SECONDS=STALE_QUEUED_SECONDS,
        CELERY_TASK_SOFT_TIME_LIMIT=20,
        CELERY_TASK_TIME_LIMIT=25,
        CELERY_BROKER_VISIBILITY_TIMEOUT=30,
    )
    worker = processes.worker("outage", env, pool="prefork", n=2)

    private_redis.stop()
    tally.fault("redis stopped before commit")
    started = time.monotonic()
    briefs = [start_brief(call, by=alice) for call in calls]
    took = time.monotonic() - started

    # The briefs are saved, quickly, and their evidence runs wait, pending.
    assert took < 20, f"starting {len(briefs)} briefs with Redis down took {took:.1f} s"
    for brief, account in zip(briefs, accounts, strict=True):
        assert Brief.objects.get(pk=brief.pk).sections.count() == 8
        run = CollectionRun.objects.get(account=account)
        assert run.finished_at is None
        pending = run.sources.exclude(state=RunState.SKIPPED)
        assert pending.exists()
        assert set(pending.values_list("state", "attempts")) == {(RunState.QUEUED, 0)}
    pending_count = SourceRun.objects.filter(state=RunState.QUEUED).count()

    private_redis.start()  # the same port, empty: nothing was ever enqueued
    worker.wait_for_log("Connected to redis://", timeout=40, count=2)
    # The worker is back, but nothing tells it about the pending runs...
    last_queued = SourceRun.objects.aggregate(last=Max("enqueued_at"))["last"]
    stale_at = last_queued + timedelta(seconds=STALE_QUEUED_SECONDS + 1)
    time.sleep(max(0.0, (stale_at - timezone.now()).total_seconds()))
    assert SourceRun.objects.filter(state=RunState.QUEUED).count() == pending_count
    # ...until the beat's sweep does.
    evidence_tasks.sweep_stale_runs.delay()
    wait_until(
        lambda: all_runs_finished(accounts),
        timeout=60,
        message=lambda: f"pending runs were not collected: {open_sources()}\n{worker.tail()}",
        interval=0.25,
    )

    problems, missing, extra = check_one_set(accounts)
    tally.loss("evidence rows missing", missing)
    tally.loss("evidence rows extra or duplicated", extra)
    tally.loss(
        "briefs lost", len(briefs) - Brief.objects.filter(pk__in=[b.pk for b in briefs]).count()
    )
    tally.note(
        f"{len(briefs)} briefs saved in {took:.1f} s with Redis down; {pending_count} pending "
        "source runs collected after the sweep"
    )
    assert not problems, "\n".join(problems)
    assert set(
        SourceRun.objects.exclude(state=RunState.SKIPPED).values_list("attempts", flat=True)
    ) == {1}


@pytest.mark.parametrize("keeps_data", [True, False], ids=["restart", "crash-losing-the-queue"])
def test_a_collection_survives_a_redis_restart_in_the_middle(
    alice, private_redis, processes, tally, keeps_data
):
    """A restart keeps what was queued (Redis saves it on shutdown); a crash of a Redis without
    persistence loses it, and the sweep (run by beat) enqueues the lost source runs again."""
    accounts = make_accounts(alice)
    before, after = accounts[:3], accounts[3:]
    env = process_env(
        private_redis.url,
        EVIDENCE_REPLAY_DELAY_MS=250,
        CELERY_TASK_SOFT_TIME_LIMIT=9,
        CELERY_TASK_TIME_LIMIT=11,
        CELERY_BROKER_VISIBILITY_TIMEOUT=14,
        FAULTS_STALE_QUEUED_SECONDS=STALE_QUEUED_SECONDS,
    )
    worker = processes.worker("restart", env, pool="prefork", n=2)
    for account in before:
        collect.start_collection(account)
    wait_until(
        lambda: (
            SourceRun.objects.filter(state=RunState.SUCCEEDED).exists()
            and SourceRun.objects.filter(state=RunState.RUNNING).exists()
        ),
        timeout=40,
        message=lambda: f"the collection did not get under way: {open_sources()}",
        interval=0.05,
    )
    in_flight = SourceRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING]).count()

    if keeps_data:
        private_redis.stop(save=True)  # what was queued is kept on disk
        tally.fault("redis restarted mid-collection")
    else:
        private_redis.kill()  # SIGKILL, nothing saved: every queued message is gone
        tally.fault("redis killed mid-collection, queue lost")
    time.sleep(1.0)
    private_redis.start()
    # Enqueued after the restart, by this process's (reconnecting) producer.
    for account in after:
        collect.start_collection(account)

    sweeps = 0
    last_sweep = time.monotonic()

    def finished():
        nonlocal sweeps, last_sweep
        if not keeps_data and time.monotonic() - last_sweep > STALE_QUEUED_SECONDS + 1:
            evidence_tasks.sweep_stale_runs.delay()  # as beat does, every few minutes
            sweeps += 1
            last_sweep = time.monotonic()
        return all_runs_finished(accounts)

    wait_until(
        finished,
        timeout=60,
        message=lambda: f"runs did not finish after the restart: {open_sources()}\n{worker.tail()}",
        interval=0.25,
    )
    assert worker.log().count("Connected to redis://") >= 2, "the worker never reconnected"
    problems, missing, extra = check_one_set(accounts)
    tally.loss("evidence rows missing", missing)
    tally.loss("evidence rows extra or duplicated", extra)
    tally.note(
        f"{in_flight} source runs open at the {'restart' if keeps_data else 'crash'}, "
        f"{len(after)} accounts enqueued after it; all finished"
        + (f" ({sweeps} sweeps)" if sweeps else "")
    )
    assert not problems, "\n".join(problems)

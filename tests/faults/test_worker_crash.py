"""kill -9 a worker child, then its main process, in the middle of a collection; a new worker
finishes it and every account ends with exactly one set of evidence."""

from __future__ import annotations

import os
import signal
import time

import pytest

from callprep.evidence import collect
from callprep.evidence.models import RunState, SourceRun

from .conftest import alive, process_env, wait_until
from .evidence import all_runs_finished, check_one_set, make_accounts, open_sources

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Slow replayed requests, so that tasks are still running when the worker is killed; limits
# that satisfy soft < hard < visibility timeout, with a visibility timeout short enough that the
# messages the dead main process held come back within the test.
CRASH_ENV = {
    "EVIDENCE_REPLAY_DELAY_MS": 250,
    "CELERY_TASK_SOFT_TIME_LIMIT": 9,
    "CELERY_TASK_TIME_LIMIT": 11,
    "CELERY_BROKER_VISIBILITY_TIMEOUT": 14,
}


def running_ids() -> set[int]:
    return set(SourceRun.objects.filter(state=RunState.RUNNING).values_list("pk", flat=True))


def test_killing_a_worker_child_and_then_its_main_process_loses_and_duplicates_nothing(
    alice, private_redis, processes, tally
):
    accounts = make_accounts(alice)
    env = process_env(private_redis.url, **CRASH_ENV)
    first = processes.worker("crash-1", env, pool="prefork", n=2)
    for account in accounts:
        collect.start_collection(account)
    queued = SourceRun.objects.exclude(state=RunState.SKIPPED).count()

    # Mid-collection: some sources done, a child busy with another.
    wait_until(
        lambda: SourceRun.objects.filter(state=RunState.SUCCEEDED).count() >= 3 and running_ids(),
        timeout=40,
        message=lambda: f"no source run got under way: {open_sources()}\n{first.tail()}",
        interval=0.05,
    )
    children = first.children()
    assert children, f"the prefork worker has no children:\n{first.tail()}"
    interrupted = running_ids()
    victim = children[0]
    os.kill(victim, signal.SIGKILL)
    tally.fault("worker child killed (SIGKILL)")
    wait_until(lambda: not alive(victim), timeout=5, message="the killed child lingers")
    interrupted |= running_ids()

    # The main process notices the lost child and starts a new one; kill it while it works.
    time.sleep(1.0)
    wait_until(
        running_ids,
        timeout=20,
        message=lambda: f"nothing running after the child died: {open_sources()}",
        interval=0.05,
    )
    children = first.children()
    os.kill(first.pid, signal.SIGKILL)
    tally.fault("worker main process killed (SIGKILL)")
    # Celery's prefork children die with their parent (PR_SET_PDEATHSIG), mid-task.
    wait_until(
        lambda: not any(alive(pid) for pid in [first.pid, *children]),
        timeout=5,
        message="the killed worker's processes linger",
    )
    interrupted |= running_ids()
    done_before_restart = SourceRun.objects.filter(state=RunState.SUCCEEDED).count()
    assert done_before_restart < queued, "the collection ended before the kills; nothing tested"

    started = time.monotonic()
    processes.worker("crash-2", env, pool="prefork", n=2)
    wait_until(
        lambda: all_runs_finished(accounts),
        timeout=90,
        message=lambda: f"runs never finished after the restart: {open_sources()}",
        interval=0.25,
    )
    recovery = time.monotonic() - started

    problems, missing, extra = check_one_set(accounts)
    tally.loss("evidence rows missing", missing)
    tally.loss("evidence rows extra or duplicated", extra)
    unfinished = SourceRun.objects.exclude(state__in=[RunState.SUCCEEDED, RunState.SKIPPED])
    tally.loss("source runs not succeeded", unfinished.count())
    taken_over = SourceRun.objects.filter(attempts=2).count()
    tally.note(
        f"{len(accounts)} accounts, {queued} source runs; {taken_over} interrupted mid-task and "
        f"taken over by their redelivered message; {queued - done_before_restart} finished by "
        f"the new worker in {recovery:.1f} s"
    )
    assert not problems, "\n".join(problems)
    assert taken_over >= 1, "no task was interrupted mid-run; nothing tested"
    # Nothing ran more often than the kills explain: one more attempt per interrupted run.
    assert not SourceRun.objects.exclude(pk__in=interrupted).filter(attempts__gt=1).exists()
    assert not SourceRun.objects.filter(attempts__gt=2).exists()

"""The rule the worker-crash test relies on, in-process: a redelivered message takes over the
source run its dead worker left "running"; a plain duplicate does not, and a run that keeps
killing its worker gives up."""

from __future__ import annotations

import pytest
from django.utils import timezone

from callprep.evidence import collect
from callprep.evidence.clients import Collected
from callprep.evidence.models import RunState, SourceRun

from .evidence import make_accounts

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def collectors(calls: list[str]):
    def collect_news(account):
        calls.append(account.name)
        return Collected(notes=["replayed"])

    return {"news": collect_news}


@pytest.fixture
def stuck(alice, monkeypatch):
    """A news source run a worker claimed and then died in."""
    monkeypatch.setattr(collect, "_enqueue", lambda ids: None)
    run = collect.start_collection(make_accounts(alice, 1)[0], sources=["news"])
    source_run = run.sources.get()
    SourceRun.objects.filter(pk=source_run.pk).update(
        state=RunState.RUNNING, started_at=timezone.now(), attempts=1
    )
    return source_run


def test_a_duplicate_delivery_leaves_a_running_source_run_alone(stuck):
    calls: list[str] = []
    assert collect.collect_source(stuck.pk, collectors=collectors(calls)) == ""
    assert calls == []
    assert SourceRun.objects.get(pk=stuck.pk).state == RunState.RUNNING


def test_a_redelivered_message_takes_over_and_finishes_the_run(stuck):
    calls: list[str] = []
    state = collect.collect_source(stuck.pk, collectors=collectors(calls), redelivered=True)
    assert state == RunState.SUCCEEDED
    assert len(calls) == 1
    stuck.refresh_from_db()
    assert (stuck.state, stuck.attempts) == (RunState.SUCCEEDED, 2)
    assert stuck.run.sources.filter(state__in=[RunState.QUEUED, RunState.RUNNING]).count() == 0
    stuck.run.refresh_from_db()
    assert stuck.run.finished_at is not None
    # A second copy of the same message finds nothing to do.
    assert collect.collect_source(stuck.pk, collectors=collectors(calls), redelivered=True) == ""
    assert len(calls) == 1


def test_a_run_that_keeps_killing_its_worker_fails_instead_of_running_again(stuck):
    SourceRun.objects.filter(pk=stuck.pk).update(attempts=collect.MAX_ATTEMPTS)
    calls: list[str] = []
    assert collect.collect_source(stuck.pk, collectors=collectors(calls), redelivered=True) == ""
    assert calls == []
    stuck.refresh_from_db()
    assert stuck.state == RunState.FAILED
    assert "gave up" in stuck.reason

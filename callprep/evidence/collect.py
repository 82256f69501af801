"""Evidence collection, as domain functions.

* ``start_collection`` creates a run with one SourceRun per source (skipped ones say why) and,
  on commit, enqueues one task per queued source.
* ``collect_source`` claims a queued SourceRun (a conditional update, so a second delivery of
  the same task does nothing), fetches and parses outside any transaction, then stores the
  rows in one transaction (an upsert by ``(account, source, key)``: running again replaces
  the same evidence, never duplicates it) and finishes with a reason a rep can read.
* ``sweep_stale_runs`` re-enqueues source runs that never started (the broker was down at
  commit) and recovers runs whose worker died; ``refresh_due_accounts`` starts runs for
  accounts with calls in the next 7 days whose evidence is older than 24 hours. Both select
  by state, so running them twice does nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from accounts.models import Account
from callprep.sources import EvidenceRow

from . import clients
from .models import (
    OPEN_STATES,
    CollectionRun,
    Evidence,
    RunState,
    Source,
    SourceRun,
    Trigger,
)

log = logging.getLogger(__name__)

# Queued for longer than this without starting: the task was probably never delivered.
STALE_QUEUED = timedelta(minutes=3)
# Running for longer than this: the worker died (the hard time limit is 3 minutes).
STALE_RUNNING = timedelta(minutes=10)
# The settings EVIDENCE_STALE_QUEUED_SECONDS / EVIDENCE_STALE_RUNNING_SECONDS override both (the
# fault tests shorten them); see ``stale_queued()`` and ``stale_running()``.
MAX_ATTEMPTS = 4
FRESH_FOR = timedelta(hours=24)
CALLS_WITHIN = timedelta(days=7)
# Account fields whose change makes the evidence out of date.
EVIDENCE_FIELDS = ("ticker", "cik", "naics_code", "country", "website", "name")


def stale_queued() -> timedelta:
    seconds = getattr(settings, "EVIDENCE_STALE_QUEUED_SECONDS", None)
    return STALE_QUEUED if seconds is None else timedelta(seconds=seconds)


def stale_running() -> timedelta:
    seconds = getattr(settings, "EVIDENCE_STALE_RUNNING_SECONDS", None)
    return STALE_RUNNING if seconds is None else timedelta(seconds=seconds)


class CollectionError(Exception):
    """A collection cannot start; the message is for the user."""


def skip_reason(account: Account, source: str) -> str:
    """Why ``source`` does not apply to ``account`` (or has no settings), or "" to collect."""
    if source == Source.SEC:
        if not account.ticker and not account.cik:
            return "no ticker"
        if not clients.sec_user_agent():
            return "no SEC contact e-mail configured — an admin sets it on the Settings page"
    elif source == Source.WORLDBANK:
        if not account.country:
            return "no country on the account"
        if account.country.upper() == "US":
            return "US company — World Bank indicators are for non-US customers"
    elif source == Source.WEBSITE:
        if not account.website:
            return "no website"
    elif source == Source.NEWS and not account.name.strip():
        return "no company name to search for"
    return ""


def _enqueue(source_run_ids: Iterable[int]) -> None:
    from .tasks import collect_source_task

    pending = list(source_run_ids)
    for done, pk in enumerate(pending):
        try:
            collect_source_task.delay(pk)
        except Exception:
            # The broker is down: the sweep re-enqueues these later. Each further try would
            # only keep the caller (a request saving a brief) waiting for the same failure.
            log.exception(
                "could not enqueue evidence source runs %s; the sweep will", pending[done:]
            )
            return


def start_collection(
    account: Account, *, trigger: str = Trigger.MANUAL, by=None, sources: Iterable[str] = ()
) -> CollectionRun:
    """Start a collection run for the account, or return the one already in progress."""
    with transaction.atomic():
        # Lock the account so two clicks (or a click and the beat job) make one run.
        Account.objects.select_for_update().filter(pk=account.pk).first()
        current = (
            CollectionRun.objects.unfinished()
            .filter(account=account, created_at__gte=timezone.now() - stale_running())
            .first()
        )
        if current is not None:
            return current
        run = CollectionRun.objects.create(account=account, trigger=trigger, requested_by=by)
        now = timezone.now()
        queued = []
        for source in sources or Source.values:
            reason = skip_reason(account, source)
            source_run = SourceRun.objects.create(
                run=run,
                source=source,
                state=RunState.SKIPPED if reason else RunState.QUEUED,
                reason=reason,
                finished_at=now if reason else None,
            )
            if not reason:
                queued.append(source_run.pk)
        if not queued:
            run.finished_at = now
            run.save(update_fields=["finished_at"])
        transaction.on_commit(lambda: _enqueue(queued))
    return run


def account_changed(account: Account, changed: Iterable[str], *, by=None) -> CollectionRun | None:
    """Call after saving an account: new evidence when a field it depends on changed."""
    if set(changed) & set(EVIDENCE_FIELDS):
        return start_collection(account, trigger=Trigger.ACCOUNT_CHANGE, by=by)
    return None


def _finish_run(run_id: int) -> None:
    open_sources = SourceRun.objects.filter(run_id=run_id, state__in=OPEN_STATES)
    CollectionRun.objects.filter(pk=run_id, finished_at__isnull=True).exclude(
        Exists(open_sources)
    ).update(finished_at=timezone.now())


def _finish(source_run: SourceRun, state: str, reason: str, rows: int = 0) -> None:
    SourceRun.objects.filter(pk=source_run.pk, state=RunState.RUNNING).update(
        state=state, reason=reason[:500], finished_at=timezone.now(), rows=rows
    )
    _finish_run(source_run.run_id)


def store_rows(
    account: Account,
    collector: str,
    rows: list[EvidenceRow],
    *,
    run: CollectionRun | None = None,
    prune: bool = True,
) -> int:
    """Upsert the rows by ``(account, source, key)``; with ``prune``, drop this collector's
    rows that the source no longer returns. Returns the number of rows kept."""
    now = timezone.now()
    unique: dict[tuple[str, str], EvidenceRow] = {}
    for row in rows:
        unique[(row.source, row.key)] = row
    with transaction.atomic():
        for (source, key), row in unique.items():
            Evidence.objects.update_or_create(
                account=account,
                source=source,
                key=key,
                defaults={
                    "collector": collector,
                    "kind": row.kind,
                    "label": row.label[:500],
                    "metric": row.metric or "",
                    "series": row.series or "",
                    "concept": row.concept or "",
                    "value": row.value,
                    "unit": row.unit,
                    "period_start": row.period_start,
                    "period_end": row.period_end,
                    "url": row.url[:1000],
                    "retrieved_at": now,
                    "excerpt": row.excerpt,
                    "extra": row.to_json()["extra"],
                    "run": run,
                },
            )
        if prune:
            kept = Evidence.objects.filter(account=account, collector=collector)
            gone = [
                pk
                for pk, source, key in kept.values_list("pk", "source", "key")
                if (source, key) not in unique
            ]
            Evidence.objects.filter(pk__in=gone).delete()
    return len(unique)


def _gave_up(source_run: SourceRun) -> bool:
    """A run whose worker died ``MAX_ATTEMPTS`` times fails instead of killing the next one."""
    if source_run.attempts < MAX_ATTEMPTS:
        return False
    _finish(source_run, RunState.FAILED, "The worker stopped while collecting; gave up")
    return True


def _take_over(source_run_id: int) -> bool:
    """Claim a source run left "running" by a worker that died in the middle of it.

    Only for a redelivered message: the broker hands a message out again only when the worker
    that had it is gone (its process was killed, or the visibility timeout, which is longer than
    the hard time limit, has passed), so nobody is still working on the run.
    """
    stuck = SourceRun.objects.filter(pk=source_run_id, state=RunState.RUNNING).first()
    if stuck is None or _gave_up(stuck):
        return False
    # Conditional on the attempt we saw, so two copies of the message take it over once.
    return bool(
        SourceRun.objects.filter(
            pk=stuck.pk, state=RunState.RUNNING, attempts=stuck.attempts
        ).update(started_at=timezone.now(), attempts=F("attempts") + 1)
    )


def collect_source(
    source_run_id: int,
    *,
    final_attempt: bool = True,
    collectors: dict[str, Callable] | None = None,
    redelivered: bool = False,
) -> str:
    """Fetch, parse and store one source for one account. Safe to run twice.

    Returns the state the source run ended in ("" when there was nothing to do). Raises
    ``TransientFailure`` when the source may work later and this was not the last attempt
    (the source run is queued again, so the task can retry it). ``redelivered`` says the broker
    gave this message out before, to a worker that died: a run it left "running" is taken over
    (without it, the run would wait for the sweep's ``STALE_RUNNING``).
    """
    claimed = SourceRun.objects.filter(pk=source_run_id, state=RunState.QUEUED).update(
        state=RunState.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed and redelivered:
        claimed = _take_over(source_run_id)
    if not claimed:
        return ""  # already done, or another worker has it
    source_run = SourceRun.objects.select_related("run__account").get(pk=source_run_id)
    account = source_run.run.account
    collector = (collectors or clients.COLLECTORS)[source_run.source]
    try:
        collected = collector(account)
    except clients.TransientFailure as exc:
        if not final_attempt and source_run.attempts < MAX_ATTEMPTS:
            SourceRun.objects.filter(pk=source_run.pk, state=RunState.RUNNING).update(
                state=RunState.QUEUED,
                reason=f"Retrying: {exc}"[:500],
                enqueued_at=timezone.now() + stale_queued(),
            )
            raise
        _finish(source_run, RunState.FAILED, str(exc))
        return RunState.FAILED
    except clients.SourceFailure as exc:
        _finish(source_run, RunState.FAILED, str(exc))
        return RunState.FAILED
    except Exception as exc:
        log.exception("evidence source run %s failed", source_run.pk)
        name = source_run.get_source_display()
        reason = f"Something went wrong while reading {name} ({exc.__class__.__name__})"
        if exc.__class__.__name__ == "SoftTimeLimitExceeded":
            reason = f"{name} took too long; we stopped waiting"
        _finish(source_run, RunState.FAILED, reason)
        raise
    kept = store_rows(account, source_run.source, collected.rows, run=source_run.run)
    _finish(source_run, RunState.SUCCEEDED, collected.note, rows=kept)
    return RunState.SUCCEEDED


def sweep_stale_runs(now=None) -> int:
    """Re-enqueue source runs that never started, recover those whose worker died."""
    now = now or timezone.now()
    queued_for, running_for = stale_queued(), stale_running()
    # Running far longer than the hard time limit: the worker died mid-task.
    dead = SourceRun.objects.filter(state=RunState.RUNNING, started_at__lt=now - running_for)
    for source_run in dead:
        if not _gave_up(source_run):
            SourceRun.objects.filter(pk=source_run.pk, state=RunState.RUNNING).update(
                state=RunState.QUEUED, enqueued_at=now - queued_for - timedelta(seconds=1)
            )
    stale_ids = []
    for pk in SourceRun.objects.filter(
        state=RunState.QUEUED, enqueued_at__lt=now - queued_for
    ).values_list("pk", flat=True):
        # Touch it first, so a second sweep does not enqueue it again.
        if SourceRun.objects.filter(
            pk=pk, state=RunState.QUEUED, enqueued_at__lt=now - queued_for
        ).update(enqueued_at=now):
            stale_ids.append(pk)
    _enqueue(stale_ids)
    return len(stale_ids)


def accounts_due(now=None):
    """Accounts with a scheduled call in the next 7 days and no evidence run in 24 hours."""
    from callprep.models import Call, CallStatus

    now = now or timezone.now()
    calls_soon = Call.objects.filter(
        account=OuterRef("pk"),
        status=CallStatus.SCHEDULED,
        starts_at__gte=now,
        starts_at__lte=now + CALLS_WITHIN,
    )
    return (
        Account.objects.filter(Exists(calls_soon))
        .annotate(last_run=Max("collection_runs__created_at"))
        .filter(Q(last_run__isnull=True) | Q(last_run__lt=now - FRESH_FOR))
    )


def refresh_due_accounts(now=None) -> int:
    started = 0
    for account in accounts_due(now):
        start_collection(account, trigger=Trigger.SCHEDULE)
        started += 1
    return started


def latest_run(account: Account) -> CollectionRun | None:
    return CollectionRun.objects.filter(account=account).prefetch_related("sources").first()


def import_rows(
    account: Account, collector: str, rows: list[EvidenceRow], *, by=None
) -> CollectionRun:
    """Keep rows parsed from a downloaded file (``manage.py import_evidence``), as a finished
    run with one succeeded source, so the panel shows where they came from."""
    with transaction.atomic():
        run = CollectionRun.objects.create(
            account=account, trigger=Trigger.IMPORT, requested_by=by, finished_at=timezone.now()
        )
        kept = store_rows(account, collector, rows, run=run, prune=False)
        SourceRun.objects.create(
            run=run,
            source=collector,
            state=RunState.SUCCEEDED,
            reason=f"imported {kept} rows from a file",
            started_at=run.created_at,
            finished_at=timezone.now(),
            attempts=1,
            rows=kept,
        )
    return run

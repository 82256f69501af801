"""Writes to calls from the call pages and the calendar import.

Each function saves inside ``transaction.atomic()``, and brings what follows a call (its
brief's section states, its dashboard facts: ``callprep.changes.call_changed``) in step in the
same transaction; the pages only check access and answer.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, ImportState, User, import_stalled_q
from callprep import calendar
from callprep.changes import call_changed
from callprep.forms import CallForm
from callprep.models import CREATED, UPDATED, CalendarImport, Call

log = logging.getLogger(__name__)


def schedule_call(form: CallForm, *, by: User) -> Call:
    """Create a call from its (valid) form; its owner follows the account (see
    ``calendar.call_owner``)."""
    with transaction.atomic():
        call = form.save(commit=False)
        call.owner = calendar.call_owner(by, call.account)
        call.save()
        form.save_m2m()
        call_changed(call)
    return call


def save_call(form: CallForm) -> Call:
    """Change a call from its (valid) form; the new ``sequence`` tells calendars it changed."""
    with transaction.atomic():
        call = form.save(commit=False)
        call.sequence += 1
        call.save()
        form.save_m2m()
        call_changed(call)
    return call


class CalendarImportRunning(Exception):
    pass


def keep_calendar_upload(
    user: User, *, filename: str, content: str, events: list[calendar.ParsedEvent]
) -> CalendarImport:
    """Keep a parsed calendar upload with the dry run of its import, for its preview. The
    user's earlier uploads that are imported with nothing left to assign, or were never
    imported, go."""
    plan = calendar.plan_calendar(events, user=user)
    with transaction.atomic():
        CalendarImport.objects.filter(user=user).filter(
            Q(state=ImportState.DONE, events=[]) | Q(state=ImportState.PREVIEW)
        ).delete()
        return CalendarImport.objects.create(
            user=user,
            filename=filename[:255],
            content=content,
            parsed=[calendar.event_to_json(event) | {"n": n} for n, event in enumerate(events)],
            plan=plan,
            event_count=len(events),
            state=ImportState.PREVIEW,
        )


def drop_calendar_upload(pending: CalendarImport) -> None:
    with transaction.atomic():
        pending.delete()


def offered_people(pending: CalendarImport) -> dict[str, list]:
    """The attendees the preview offers as new stakeholders, each once, by the key its
    checkbox posts (``account id:e-mail``): ``[account id, e-mail, name, account name]``."""
    offered: dict[str, list] = {}
    for step in pending.plan:
        for email, name in step["people"]:
            key = f"{step['account_id']}:{email}"
            offered.setdefault(key, [step["account_id"], email, name, step["account"]])
    return offered


def queue_calendar_import(pending: CalendarImport, *, people: list[str]) -> None:
    """Hand a previewed upload to the worker, with the offered attendees (their keys, see
    offered_people) to make stakeholders. Raises CalendarImportRunning when it is not in
    preview any more (already queued, e.g. by a second click)."""
    offered = offered_people(pending)
    chosen = [offered[key][:3] for key in dict.fromkeys(people) if key in offered]
    now = timezone.now()
    with transaction.atomic():
        claimed = CalendarImport.objects.filter(pk=pending.pk, state=ImportState.PREVIEW).update(
            state=ImportState.QUEUED, queued_at=now, add_people=chosen
        )
        if not claimed:
            raise CalendarImportRunning(f"{pending.filename} is already being imported.")
        transaction.on_commit(lambda: enqueue_calendar_import(pending.pk))
    pending.refresh_from_db()


def enqueue_calendar_import(pk: int) -> None:
    from callprep.tasks import import_calendar_upload

    try:
        import_calendar_upload.delay(pk)
    except Exception:
        log.exception("could not enqueue the import of calendar upload %s", pk)
        CalendarImport.objects.filter(pk=pk, state=ImportState.QUEUED).update(
            state=ImportState.FAILED,
            error="The import could not be handed to the worker. Press “Go on importing” to "
            "try again.",
        )


def requeue_calendar_import(pending: CalendarImport) -> None:
    """Hand an import that stopped (its worker failed or died) to the worker again; it goes on
    where it stopped. Raises CalendarImportRunning when it is under way or done."""
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            CalendarImport.objects.filter(pk=pending.pk)
            .filter(Q(state=ImportState.FAILED) | import_stalled_q(now))
            .update(state=ImportState.QUEUED, queued_at=now, error="")
        )
        if not claimed:
            raise CalendarImportRunning(f"{pending.filename} is already being imported.")
        transaction.on_commit(lambda: enqueue_calendar_import(pending.pk))
    pending.refresh_from_db()


def run_calendar_import(pk: int) -> bool:
    """The worker's side: claim a queued upload (False when there is none, e.g. the task runs
    twice) or one whose worker died, and import its events ICS_IMPORT_BATCH_EVENTS at a time,
    one transaction per batch, from where a stopped run left off."""
    now = timezone.now()
    claimed = (
        CalendarImport.objects.filter(pk=pk)
        .filter(Q(state=ImportState.QUEUED) | import_stalled_q(now))
        .update(state=ImportState.RUNNING, progress_at=now)
    )
    if not claimed:
        return False
    pending = CalendarImport.objects.select_related("user").get(pk=pk)
    size = settings.ICS_IMPORT_BATCH_EVENTS
    try:
        if pending.add_people:  # first, so that the batches add them to their calls
            calendar.add_stakeholders(pending.add_people, user=pending.user)
        for start in range(pending.events_done, len(pending.parsed), size):
            import_event_batch(pending, pending.parsed[start : start + size])
    except Exception:
        log.exception("the import of calendar upload %s stopped", pk)
        CalendarImport.objects.filter(pk=pk).update(
            state=ImportState.FAILED,
            finished_at=timezone.now(),
            error=f"The import stopped after {pending.events_done:,} events because of an error "
            "in the worker. Those events were imported; press “Go on importing” for the rest.",
        )
        return True
    CalendarImport.objects.filter(pk=pk).update(
        state=ImportState.DONE, finished_at=timezone.now(), parsed=[]
    )
    return True


def import_event_batch(pending: CalendarImport, batch: list[dict]) -> None:
    """Import some events of an upload in one transaction and record what each did."""
    events = [calendar.event_from_json(data) for data in batch]
    with transaction.atomic():
        report = calendar.import_calendar(events, user=pending.user)
        pending.imported += [[CREATED, call.pk] for call in report.created]
        pending.imported += [[UPDATED, call.pk] for call in report.updated]
        pending.skipped += [[event.summary, reason] for event, reason in report.skipped]
        pending.events += [  # numbered by their place among the events to assign
            calendar.event_to_json(event) | {"n": n}
            for n, event in enumerate(report.unmatched, start=len(pending.events))
        ]
        pending.events_done += len(batch)
        pending.progress_at = timezone.now()
        pending.save(update_fields=["imported", "skipped", "events", "events_done", "progress_at"])


def imported_calls(pending: CalendarImport, user: User, *, limit: int) -> list[tuple[str, Call]]:
    """The first calls an import created or updated, as (action, call), that the user may
    still see (one query)."""
    first = pending.imported[:limit]
    calls = Call.objects.visible_to(user).select_related("account").in_bulk([pk for _, pk in first])
    return [(action, calls[pk]) for action, pk in first if pk in calls]


def pending_events(pending: CalendarImport) -> list[calendar.ParsedEvent]:
    """The events of a pending import still to assign. An import kept before its events were
    stored (it imported in the request, and has no ``event_count``) is parsed once and its
    events stored."""
    if not pending.events and pending.content and not pending.event_count:
        try:
            events = calendar.parse_calendar(pending.content)
        except calendar.CalendarError:
            events = []
        pending.events = [calendar.event_to_json(e) | {"n": n} for n, e in enumerate(events)]
        pending.save(update_fields=["events"])
    return [calendar.event_from_json(data) for data in pending.events]


def not_yet_calls(events: list[calendar.ParsedEvent]) -> list[calendar.ParsedEvent]:
    """The events no call has come from yet (one query)."""
    uids = [event.uid for event in events]
    known = set(Call.objects.filter(ical_uid__in=uids).values_list("ical_uid", flat=True))
    return [event for event in events if event.uid not in known]


def assign_pending_events(
    pending: CalendarImport,
    events: list[calendar.ParsedEvent],
    choices: dict[str, Account],
    *,
    user: User,
) -> tuple[list[Call], int]:
    """Create calls from the events the uploader assigned to accounts; those events and the
    ones left out are then done with. Returns the calls and how many events are still to
    assign; the pending import is deleted when none is."""
    decided = {event.n for event in events}
    with transaction.atomic():
        locked = CalendarImport.objects.select_for_update().filter(pk=pending.pk).first()
        if locked is None:  # another request assigned the last events meanwhile
            return [], 0
        created = calendar.assign_events(events, choices, user=user)
        remaining = [data for data in locked.events if data["n"] not in decided]
        # Events that are in SalesPrep by now (imported again, or by someone else) are done too.
        left = {e.n for e in not_yet_calls([calendar.event_from_json(d) for d in remaining])}
        locked.events = [data for data in remaining if data["n"] in left]
        if locked.events:
            locked.save(update_fields=["events"])
        else:
            locked.delete()
    return created, len(locked.events)

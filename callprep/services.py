"""Writes to calls from the call pages and the calendar import.

Each function saves inside ``transaction.atomic()``, and brings what follows a call (its
brief's section states, its dashboard facts: ``callprep.changes.call_changed``) in step in the
same transaction; the pages only check access and answer.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import Account, User
from callprep import calendar
from callprep.changes import call_changed
from callprep.forms import CallForm
from callprep.models import CalendarImport, Call


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


def keep_unmatched_import(
    user: User, *, filename: str, content: str, events: list[calendar.ParsedEvent]
) -> CalendarImport:
    """Keep an imported calendar's events that matched no account, for its uploader to assign."""
    stored = [calendar.event_to_json(event) | {"n": n} for n, event in enumerate(events)]
    with transaction.atomic():
        return CalendarImport.objects.create(
            user=user, filename=filename[:255], content=content, events=stored
        )


def pending_events(pending: CalendarImport) -> list[calendar.ParsedEvent]:
    """The events of a pending import still to assign. An import kept before its events were
    stored is parsed once and its events stored."""
    if not pending.events and pending.content:
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

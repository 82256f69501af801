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


def keep_unmatched_import(user: User, *, filename: str, content: str) -> CalendarImport:
    """Keep an imported calendar whose events matched no account, for its uploader to assign."""
    with transaction.atomic():
        return CalendarImport.objects.create(user=user, filename=filename[:255], content=content)


def assign_pending_events(
    pending: CalendarImport,
    events: list[calendar.ParsedEvent],
    choices: dict[str, Account],
    *,
    user: User,
) -> list[Call]:
    """Create calls from the events the uploader assigned to accounts; the pending import is
    then done with."""
    with transaction.atomic():
        created = calendar.assign_events(events, choices, user=user)
        pending.delete()
    return created

"""Changes to calls that other rules follow.

A call's start, status, executive and owner are inputs of the preparation rules
(callprep/briefs/models.py) and of the dashboard's facts; its executive is an input of the
completeness rule (the call plan needs the executive's role when one joins). Every write path
that changes a call — the call forms, the calendar import, the admin — calls
``call_changed`` after saving it, in the same transaction.
"""

from __future__ import annotations

from django.db import transaction

from callprep.briefs.models import Brief
from callprep.briefs.services import reevaluate_sections
from callprep.dashboard.facts import sync_account_facts, sync_call_facts
from callprep.models import Call


def call_changed(call: Call) -> None:
    """Bring the brief's section states and the call's facts in step with the saved call."""
    with transaction.atomic():
        brief = Brief.objects.filter(call=call).first()
        if brief is not None:
            brief.call = call
            reevaluate_sections(brief)
        sync_call_facts([call.pk])


def account_changed(account, changed_fields) -> None:
    """After an account was saved: its team is a fact of every call on it."""
    if "team" in changed_fields:
        sync_account_facts(account.pk)

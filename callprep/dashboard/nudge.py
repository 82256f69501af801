"""The manager's "nudge": remind whoever holds up an overdue call now, at most once a day.

It goes through the notification machinery (callprep/review/notify.py ``notify``) with a kind of
its own, ``NotificationKind.NUDGE`` ("Nudge from your manager"), so the in-app notification and
the e-mail after commit behave like the scheduled reminders while a user can mute the e-mail
of one without the other. "Once a day" counts a nudge or a scheduled reminder about the call
in the last 24 hours (``metrics.recent_nudges``); the call's row is locked so two managers
clicking at once send one nudge.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from callprep import timefmt
from callprep.briefs.models import FROM_FACT, Brief, BriefStatus, due_hours, overdue_q
from callprep.dashboard.metrics import recent_nudges
from callprep.dashboard.models import CallFact
from callprep.models import Call
from callprep.review import notify as N
from callprep.review.models import Notification, NotificationKind


class NudgeError(Exception):
    """A nudge that cannot be sent; the message says why, for the user."""


def _when(call: Call) -> str:
    return timefmt.call_time(call)


def nudge(call: Call, *, by, now: datetime | None = None) -> list[Notification]:
    """Remind whoever holds up an overdue call's brief: the rep, or its reviewer(s)."""
    with transaction.atomic():
        locked = (
            Call.objects.select_for_update(of=("self",))
            .select_related("owner", "account", "executive")
            .get(pk=call.pk)
        )
        now = now or timezone.now()
        if not CallFact.objects.filter(call=locked.pk).filter(overdue_q(now, FROM_FACT)).exists():
            raise NudgeError("This call is not overdue any more: nothing to nudge.")
        if recent_nudges(now).filter(call=locked).exists():
            raise NudgeError("A reminder about this call went out in the last 24 hours.")
        brief = (
            Brief.objects.select_related("call__owner", "created_by").filter(call=locked).first()
        )
        who = f"{by}" if by is not None else "Your manager"
        if brief is None:
            kind = NotificationKind.NUDGE
            recipients = [locked.owner] if locked.owner.is_active else []
            subject = f"No brief yet: {locked.title}"
            body = (
                f"{who} asks you to prepare: “{locked.title}” with {locked.account.name} is on "
                f"{_when(locked)} and has no brief. It was due {due_hours()} hours before."
            )
            url = reverse("briefs:for_call", args=[locked.pk])
        elif brief.status == BriefStatus.SUBMITTED:
            kind = NotificationKind.NUDGE
            recipients = N.reviewers_of(brief)
            subject = f"Brief waiting for your review: {locked.title}"
            body = (
                f"{who} asks you to review the brief for “{locked.title}” with "
                f"{locked.account.name} ({_when(locked)}). It is past its due time."
            )
            url = reverse("briefs:executive", args=[brief.pk])
        else:
            kind = NotificationKind.NUDGE
            recipients = N.writers_of(brief)
            subject = f"Brief overdue: {locked.title}"
            body = (
                f"{who} asks you to finish the brief for “{locked.title}” with "
                f"{locked.account.name} ({_when(locked)}). It was due {due_hours()} hours "
                "before the call."
            )
            url = brief.get_edit_url()
        sent = N.notify(
            kind,
            recipients,
            # One a day at most (``recent_nudges``); the key says which day's.
            event=f"nudge:call:{locked.pk}:{now:%Y-%m-%d}",
            subject=subject,
            body=body,
            url=url,
            actor=by,
            brief=brief,
            call=locked,
        )
        if not sent:
            raise NudgeError("Nobody active to remind for this call.")
    return sent

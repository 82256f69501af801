"""Reminders sent by Celery beat. Each job selects by state — calls that need a reminder and
have not had it — and records every reminder in SentReminder, whose unique constraint
(kind, call, user) makes a second run (or two beats at once) send nothing twice.

- no brief 5 days before a call (to the rep);
- overdue and waiting on the rep (``waiting_on_rep_q``: no brief, a draft or changes
  requested past the due time, the call still ahead and not cancelled) (to the rep);
- executive not briefed 24 hours before the call (to the executive).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from callprep import timefmt
from callprep.briefs.models import FROM_CALL, Brief, BriefStatus, due_hours, waiting_on_rep_q
from callprep.models import Call, CallStatus
from callprep.review import notify as N
from callprep.review.models import ExecutiveRead, NotificationKind, SentReminder

NO_BRIEF_BEFORE = timedelta(days=5)
NOT_BRIEFED_BEFORE = timedelta(hours=24)


def _not_reminded(calls, kind: str, user_field: str):
    sent = SentReminder.objects.filter(kind=kind, call=OuterRef("pk"), user=OuterRef(user_field))
    return calls.filter(~Exists(sent))


def _upcoming(now):
    return Call.objects.filter(status=CallStatus.SCHEDULED, starts_at__gt=now)


def _when(call) -> str:
    return timefmt.call_time(call)


def _send(kind: str, call, user, *, subject: str, body: str, url: str, brief=None) -> bool:
    """Record the reminder and notify; False when another run recorded it first."""
    try:
        with transaction.atomic():
            SentReminder.objects.create(kind=kind, call=call, user=user)
            N.notify(
                kind,
                [user],
                event=f"reminder:call:{call.pk}",
                subject=subject,
                body=body,
                url=url,
                brief=brief,
                call=call,
            )
    except IntegrityError:
        return False
    return True


def remind_no_brief(now=None) -> int:
    now = now or timezone.now()
    calls = _upcoming(now).filter(starts_at__lte=now + NO_BRIEF_BEFORE, brief__isnull=True)
    calls = _not_reminded(calls, NotificationKind.REMINDER_NO_BRIEF, "owner")
    sent = 0
    for call in calls.select_related("owner", "account"):
        sent += _send(
            NotificationKind.REMINDER_NO_BRIEF,
            call,
            call.owner,
            subject=f"No brief yet: {call.title}",
            body=f"Your call “{call.title}” with {call.account.name} is on {_when(call)} and "
            "has no brief yet. Start it now so the executive can review it days ahead.",
            url=reverse("briefs:for_call", args=[call.pk]),
        )
    return sent


def remind_not_submitted(now=None) -> int:
    now = now or timezone.now()
    calls = Call.objects.filter(waiting_on_rep_q(now, FROM_CALL))
    calls = _not_reminded(calls, NotificationKind.REMINDER_NOT_SUBMITTED, "owner")
    sent = 0
    for call in calls.select_related("owner", "account"):
        brief = Brief.objects.filter(call=call).first()
        sent += _send(
            NotificationKind.REMINDER_NOT_SUBMITTED,
            call,
            call.owner,
            subject=f"Brief overdue: {call.title}",
            body=f"The brief for “{call.title}” with {call.account.name} ({_when(call)}) was "
            f"due {due_hours()} hours before the call and has not been submitted.",
            url=brief.get_edit_url() if brief else reverse("briefs:for_call", args=[call.pk]),
            brief=brief,
        )
    return sent


def remind_not_briefed(now=None) -> int:
    now = now or timezone.now()
    calls = _upcoming(now).filter(
        starts_at__lte=now + NOT_BRIEFED_BEFORE,
        executive__isnull=False,
        executive__is_active=True,
        brief__status__in=[BriefStatus.SUBMITTED, BriefStatus.APPROVED],
    )
    read = ExecutiveRead.objects.filter(brief__call=OuterRef("pk"), user=OuterRef("executive"))
    calls = _not_reminded(
        calls.filter(~Exists(read)), NotificationKind.REMINDER_NOT_BRIEFED, "executive"
    )
    sent = 0
    for call in calls.select_related("executive", "account", "brief"):
        sent += _send(
            NotificationKind.REMINDER_NOT_BRIEFED,
            call,
            call.executive,
            subject=f"Read the brief before {call.title}",
            body=f"You join “{call.title}” with {call.account.name} on {_when(call)}. The "
            "one-page brief takes five minutes; mark it as briefed when you have read it.",
            url=reverse("briefs:executive", args=[call.brief.pk]),
            brief=call.brief,
        )
    return sent


def send_reminders(now=None) -> dict[str, int]:
    """Run every reminder job; returns how many of each went out."""
    now = now or timezone.now()
    return {
        "no_brief": remind_no_brief(now),
        "not_submitted": remind_not_submitted(now),
        "not_briefed": remind_not_briefed(now),
    }

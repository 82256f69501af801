"""The executive's visits: the upcoming calls they join, each with its brief's state.

A selector (reads only). Every fact on a visit comes from the one-place rules: the due time
from ``due_at_for`` (``Call.due``), overdue from ``Call.waiting_on_rep`` /
``Call.waiting_on_reviewer``, on time from ``Brief.is_on_time``, completeness from
``calls_with_brief`` (``required_sections``), upcoming from ``CallQuerySet.upcoming``.
Only calls the visibility rule lets the user read, and of those only the ones they join.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef
from django.utils import timezone

from callprep.briefs.models import Brief, BriefStatus, calls_with_brief
from callprep.models import Call, CallStatus
from callprep.review.models import ExecutiveRead

VISIT_LIMIT = 100


@dataclass(frozen=True)
class Visit:
    call: Call
    brief: Brief | None
    due: datetime | None
    waiting_on_rep: bool
    waiting_on_reviewer: bool
    on_time: bool
    completeness_percent: int
    required_complete: int
    required_total: int
    briefed: bool
    may_review: bool

    @property
    def status(self) -> str:
        return self.brief.status if self.brief else ""

    @property
    def status_label(self) -> str:
        return self.call.brief_status


def visit_calls(user, now: datetime | None = None):
    """The calls of ``visits``, as a queryset: visible to the user, joined by them, upcoming
    and not cancelled, the earliest first, with their brief and its completeness."""
    now = now or timezone.now()
    read = ExecutiveRead.objects.filter(brief__call=OuterRef("pk"), user=user.pk)
    calls = (
        Call.objects.visible_to(user)
        .joined_by(user)
        .upcoming(now)
        .exclude(status=CallStatus.CANCELLED)
        .select_related("account", "owner", "brief__created_by")
    )
    return calls_with_brief(calls).annotate(executive_read=Exists(read)).order_by("starts_at", "pk")


def _brief(call: Call) -> Brief | None:
    try:
        return call.brief
    except ObjectDoesNotExist:
        return None


def visits(user, now: datetime | None = None) -> list[Visit]:
    now = now or timezone.now()
    rows = []
    for call in visit_calls(user, now)[:VISIT_LIMIT]:
        brief = _brief(call)
        rows.append(
            Visit(
                call=call,
                brief=brief,
                due=call.due,
                waiting_on_rep=call.waiting_on_rep(now),
                waiting_on_reviewer=call.waiting_on_reviewer(now),
                on_time=brief is not None and brief.is_on_time(),
                completeness_percent=int(call.brief_completeness_percent),
                required_complete=call.brief_required_complete,
                required_total=call.brief_required_total,
                briefed=call.executive_read,
                may_review=brief is not None
                and brief.status == BriefStatus.SUBMITTED
                and brief.may_review(user),
            )
        )
    return rows

"""The demo shows every brief state for both reps, a queue and notifications for ``vp``, and
twelve weeks of history for the prep dashboard; seeding again changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from callprep.briefs.models import (
    Brief,
    BriefSection,
    BriefStatus,
    SectionRevision,
    due_at_for,
    on_time_q,
)
from callprep.demo import load
from callprep.models import Call
from callprep.review.models import (
    Approval,
    BriefTransition,
    ExecutiveRead,
    Notification,
    NotificationKind,
    SectionComment,
)

pytestmark = pytest.mark.django_db


def test_every_brief_state_exists_for_each_rep_with_a_queue_and_notifications_for_vp():
    users = load.seed(evidence=False)
    now = timezone.now()
    vp = users["vp"]

    for rep in ("rep", "rep2"):
        upcoming = Brief.objects.filter(call__owner=users[rep], call__starts_at__gte=now)
        states = set(upcoming.values_list("status", flat=True))
        assert states == set(BriefStatus.values), rep
        approved = upcoming.filter(status=BriefStatus.APPROVED)
        assert Approval.objects.filter(brief__in=approved, with_concerns=True).exists()
        assert Approval.objects.filter(brief__in=approved, with_concerns=False).exists()
        # The rep sees the reviewer's comments on sections of the brief sent back.
        sent_back = upcoming.get(status=BriefStatus.CHANGES_REQUESTED)
        comments = SectionComment.objects.filter(brief=sent_back).select_related("author")
        assert comments.count() == 2
        assert all(sent_back.may_review(c.author) for c in comments)  # by its reviewer
        kinds = set(
            Notification.objects.filter(recipient=users[rep]).values_list("kind", flat=True)
        )
        assert {NotificationKind.APPROVED, NotificationKind.CHANGES_REQUESTED} <= kinds
        # Drafts at several completeness levels.
        drafts = upcoming.filter(status=BriefStatus.DRAFT).prefetch_related("sections")
        assert len({b.completeness_percent for b in drafts}) >= 2

    helio = Brief.objects.get(call__ical_uid="demo-helio-executive_visit@salesprep")
    assert helio.status == BriefStatus.APPROVED
    assert ExecutiveRead.objects.filter(brief=helio, user=vp).exists()

    # vp's queue holds the submitted briefs of the calls she joins, and only those.
    queue = list(Brief.objects.reviewable_by(vp).in_review_queue(now).select_related("call"))
    assert queue and all(b.call.executive_id == vp.pk for b in queue)
    assert any(b.is_due_soon(now) or b.waiting_on_reviewer(now) for b in queue)
    submitted = Notification.objects.filter(recipient=vp, kind=NotificationKind.SUBMITTED)
    assert submitted.exists()
    assert all(n.brief.may_review(vp) for n in submitted.select_related("brief__call__account"))
    # No notification is left over from the backdated history.
    assert not Notification.objects.filter(brief__call__starts_at__lt=now).exists()


def test_the_history_spans_twelve_weeks_with_lateness_consistent_with_the_timestamps():
    users = load.seed(evidence=False)
    now = timezone.now()
    history = Call.objects.filter(ical_uid__startswith="demo-history-")

    assert now - history.earliest("starts_at").starts_at > timedelta(weeks=11)
    assert now - history.earliest("starts_at").starts_at <= timedelta(weeks=12)
    assert history.latest("starts_at").starts_at < now
    assert len(set(history.values_list("kind", flat=True))) >= 4
    for rep in ("rep", "rep2"):
        mine = history.filter(owner=users[rep])
        weeks = {(now - c.starts_at).days // 7 for c in mine}
        assert weeks == set(range(12)), rep
        assert 3 * 12 <= mine.count() <= 5 * 12
        briefs = Brief.objects.filter(call__in=mine)
        approved = briefs.filter(status=BriefStatus.APPROVED)
        assert approved.filter(on_time_q()).exists()
        assert approved.exclude(on_time_q()).exists()
        assert briefs.filter(status=BriefStatus.SUBMITTED).exists()  # never approved
        assert mine.filter(brief__isnull=True).exists()  # never started
        assert ExecutiveRead.objects.filter(brief__in=briefs).exists()

    briefs = Brief.objects.filter(call__in=history).select_related("call")
    leads = set()
    at_due = 0
    for brief in briefs.exclude(submitted_at=None):
        due = due_at_for(brief.call.starts_at)
        assert brief.created_at < brief.submitted_at
        for entry in brief.transitions.all():
            assert entry.at < now
        if brief.status == BriefStatus.APPROVED:
            approval = brief.approvals.get()
            assert approval.at == brief.approved_at == brief.status_changed_at
            leads.add(brief.call.starts_at - brief.approved_at)
            if brief.approved_at == due:
                at_due += 1
                assert brief.is_on_time()  # exactly at the due time is on time
    assert at_due >= 1  # approved exactly at the due time: on time
    assert {timedelta(days=5), timedelta(days=3), timedelta(days=1)} <= leads
    for read in ExecutiveRead.objects.filter(brief__in=briefs).select_related("brief__call"):
        assert read.brief.approved_at < read.read_at <= read.brief.call.starts_at


def snapshot() -> dict:
    return {
        "counts": [
            m.objects.count()
            for m in (
                Call,
                Brief,
                BriefSection,
                SectionRevision,
                BriefTransition,
                Approval,
                ExecutiveRead,
                SectionComment,
                Notification,
            )
        ],
        "briefs": list(
            Brief.objects.order_by("pk").values_list(
                "pk",
                "status",
                "status_changed_at",
                "submitted_at",
                "approved_at",
                "created_at",
            )
        ),
        "transitions": list(
            BriefTransition.objects.order_by("pk").values_list("pk", "action", "at")
        ),
        "sections": list(BriefSection.objects.order_by("pk").values_list("pk", "version")),
        "calls": list(Call.objects.order_by("pk").values_list("ical_uid", "starts_at")),
    }


def test_seeding_twice_changes_nothing():
    load.seed(evidence=False)
    first = snapshot()

    load.seed(evidence=False)

    assert snapshot() == first

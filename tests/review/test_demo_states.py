"""The demo shows every brief state for both reps, a queue and notifications for ``vp``, and
twelve weeks of history for the prep dashboard; seeding again changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from callprep.briefs.models import (
    FROM_FACT,
    Brief,
    BriefSection,
    BriefStatus,
    SectionRevision,
    on_time_q,
    overdue_q,
    waiting_on_rep_q,
    waiting_on_reviewer_q,
)
from callprep.dashboard.facts import reconcile_call_facts
from callprep.dashboard.models import CallFact
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

    # vp's queue holds the submitted briefs of the calls she joins, and only those; the
    # manager's, those of his team's calls that no executive joins.
    queue = list(Brief.objects.reviewable_by(vp).in_review_queue(now).select_related("call"))
    assert queue and all(b.call.executive_id == vp.pk for b in queue)
    assert all(b.in_review_queue(now) and b.may_review(vp) for b in queue)
    assert any(b.waiting_on_reviewer(now) for b in queue)
    manager = users["manager"]
    managed = list(Brief.objects.reviewable_by(manager).in_review_queue(now))
    assert managed and all(b.may_review(manager) and b.call.executive_id is None for b in managed)
    # Whoever is told a brief was submitted may review it, and every brief in a queue was told.
    submitted = Notification.objects.filter(kind=NotificationKind.SUBMITTED).select_related(
        "recipient", "brief__call__account"
    )
    assert submitted.filter(recipient=vp).exists()
    assert all(n.brief.may_review(n.recipient) for n in submitted)
    told = {n.brief_id for n in submitted}
    assert {b.pk for b in Brief.objects.in_review_queue(now)} <= told
    # No notification is left over from the backdated history.
    assert not Notification.objects.filter(brief__call__starts_at__lt=now).exists()


def uids(briefs) -> set[str]:
    return {b.call.ical_uid for b in briefs}


def test_the_demo_has_overdue_briefs_of_both_kinds_on_every_screen_s_rule():
    load.seed(evidence=False)
    now = timezone.now()
    briefs = list(Brief.objects.select_related("call"))

    # Known answers from calls.yaml: tomorrow's Northwind discovery is still a draft, tomorrow's
    # Maple & Finch executive visit is submitted; both are past their due time.
    on_rep = uids(b for b in briefs if b.waiting_on_rep(now))
    on_reviewer = uids(b for b in briefs if b.waiting_on_reviewer(now))
    assert on_rep == {"demo-northwind-discovery@salesprep"}
    assert on_reviewer == {"demo-maple-executive_visit@salesprep"}
    assert uids(b for b in briefs if b.is_overdue(now)) == on_rep | on_reviewer
    # The queryset twins, the calls and the dashboard's facts say the same.
    assert uids(Brief.objects.filter(waiting_on_rep_q(now))) == on_rep
    assert uids(Brief.objects.filter(waiting_on_reviewer_q(now))) == on_reviewer
    assert {c.ical_uid for c in Call.objects.waiting_on_rep(now)} == on_rep
    assert {c.ical_uid for c in Call.objects.all() if c.is_overdue(now)} == on_rep | on_reviewer
    facts = CallFact.objects.select_related("call")
    assert {f.call.ical_uid for f in facts.filter(waiting_on_rep_q(now, FROM_FACT))} == on_rep
    assert {
        f.call.ical_uid for f in facts.filter(waiting_on_reviewer_q(now, FROM_FACT))
    } == on_reviewer
    maple = next(b for b in briefs if b.call.ical_uid in on_reviewer)
    assert maple.in_review_queue(now)  # overdue, and still in vp's queue: the call is ahead


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
        approved = briefs.filter(status=BriefStatus.APPROVED).select_related("call")
        on_time = {b.pk for b in approved if b.is_on_time()}
        assert on_time and on_time != {b.pk for b in approved}  # some on time, some not
        assert set(approved.filter(on_time_q()).values_list("pk", flat=True)) == on_time
        assert briefs.filter(status=BriefStatus.SUBMITTED).exists()  # never approved
        assert mine.filter(brief__isnull=True).exists()  # never started
        assert ExecutiveRead.objects.filter(brief__in=briefs).exists()

    briefs = Brief.objects.filter(call__in=history).select_related("call")
    # After a call has taken place nothing is overdue.
    assert not any(brief.is_overdue(now) for brief in briefs)
    assert not briefs.filter(overdue_q(now)).exists()
    # The dashboard's facts agree with the briefs (the seed reconciled them at its end).
    assert reconcile_call_facts()["written"] == 0
    facts_on_time = CallFact.objects.filter(on_time_q(FROM_FACT), call__in=history)
    assert set(facts_on_time.values_list("call__brief", flat=True)) == {
        b.pk for b in briefs if b.is_on_time()
    }
    leads = set()
    at_due = 0
    for brief in briefs.exclude(submitted_at=None):
        due = brief.due
        assert brief.created_at < brief.submitted_at
        for entry in brief.transitions.all():
            assert entry.at < now
        if brief.status == BriefStatus.APPROVED:
            approval = brief.approvals.get()
            assert approval.at == brief.approved_at == brief.status_changed_at
            leads.add(brief.lead_time())
            if brief.approved_at == due:
                at_due += 1
                assert brief.is_on_time()  # exactly at the due time is on time
    assert at_due >= 1  # approved exactly at the due time: on time
    assert {timedelta(days=5), timedelta(days=3), timedelta(days=1)} <= leads
    # history.yaml: rep-w04-3 was approved 20 hours after its call: not on time, not prepared.
    after = briefs.get(call__ical_uid="demo-history-rep-w04-3@salesprep")
    assert after.lead_time() == timedelta(hours=-20)
    assert not after.is_on_time() and not after.is_prepared()
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
        "facts": list(CallFact.objects.order_by("call").values()),
    }


def test_seeding_twice_changes_nothing():
    load.seed(evidence=False)
    first = snapshot()

    load.seed(evidence=False)

    assert snapshot() == first

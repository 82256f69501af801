"""The workflow functions: guards, audit entries, the sniff test, snapshots, reopen on edit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from callprep import workflow
from callprep.briefs.models import Brief, BriefStatus
from callprep.review.models import (
    Action,
    Approval,
    BriefTransition,
    ExecutiveRead,
    SectionComment,
)
from tests.review.conftest import YES, section, write

pytestmark = pytest.mark.django_db


def state(brief) -> tuple:
    """Everything a refused transition must leave alone."""
    fresh = Brief.objects.get(pk=brief.pk)
    return (
        fresh.status,
        fresh.submitted_at,
        fresh.approved_at,
        BriefTransition.objects.filter(brief=brief).count(),
        Approval.objects.filter(brief=brief).count(),
        SectionComment.objects.filter(brief=brief).count(),
    )


def test_submitting_a_complete_brief_records_who_when_and_the_due_time(complete_brief, alice):
    entry = workflow.submit_brief(complete_brief, by=alice, comment="Ready for you.")
    brief = Brief.objects.get(pk=complete_brief.pk)
    assert brief.status == BriefStatus.SUBMITTED
    assert brief.submitted_at is not None
    # The call is in three days: due 48 hours before it, so the submission is in good time.
    assert brief.due == brief.call.starts_at - timedelta(hours=48)
    assert brief.submitted_at < brief.due
    assert not brief.waiting_on_reviewer(now=brief.submitted_at)
    assert (entry.action, entry.from_status, entry.to_status) == ("submit", "draft", "submitted")
    assert entry.by == alice and entry.comment == "Ready for you."


def test_submitting_an_incomplete_brief_says_what_is_missing_and_changes_nothing(brief, alice):
    before = state(brief)
    with pytest.raises(workflow.WorkflowError) as error:
        workflow.submit_brief(brief, by=alice)
    assert "Complete these required sections" in error.value.message
    assert "Business challenges and priorities (still needed: 60 more words" in error.value.message
    assert "Call plan" in error.value.message
    assert state(brief) == before


TRANSITIONS = {
    "submit": lambda b, rep, exe: workflow.submit_brief(b, by=rep),
    "withdraw": lambda b, rep, exe: workflow.withdraw_brief(b, by=rep),
    "request_changes": lambda b, rep, exe: workflow.request_changes(b, by=exe, comment="More."),
    "approve": lambda b, rep, exe: workflow.approve_brief(b, by=exe, answers=YES),
}
ALLOWED = {
    "draft": {"submit"},
    "submitted": {"withdraw", "request_changes", "approve"},
    "changes_requested": {"submit"},
    "approved": set(),
}
INVALID = [(s, t) for s in ALLOWED for t in TRANSITIONS if t not in ALLOWED[s]]


@pytest.mark.parametrize(("status", "transition"), INVALID)
def test_every_invalid_transition_is_refused_with_a_message_and_changes_nothing(
    complete_brief, alice, victor, status, transition
):
    Brief.objects.filter(pk=complete_brief.pk).update(status=status)
    complete_brief.refresh_from_db()
    before = state(complete_brief)
    with pytest.raises(workflow.WorkflowError) as error:
        TRANSITIONS[transition](complete_brief, alice, victor)
    assert error.value.message.startswith("This brief cannot be")
    assert state(complete_brief) == before


def test_a_rep_cannot_approve_their_own_brief_even_as_an_executive(submitted, alice):
    from django.contrib.auth.models import Group

    alice.groups.add(Group.objects.get(name="Executive"))
    alice = type(alice).objects.get(pk=alice.pk)
    before = state(submitted)
    with pytest.raises(workflow.WorkflowError, match="cannot review or approve your own brief"):
        workflow.approve_brief(submitted, by=alice, answers=YES)
    assert state(submitted) == before


def test_an_admin_who_owns_the_call_cannot_approve_it(complete_brief, ada, alice):
    from callprep.models import Call

    Call.objects.filter(pk=complete_brief.call_id).update(owner=ada)
    brief = Brief.objects.get(pk=complete_brief.pk)
    workflow.submit_brief(brief, by=ada)
    with pytest.raises(workflow.WorkflowError, match="own brief"):
        workflow.approve_brief(brief, by=ada, answers=YES)


def test_only_the_executive_joining_the_call_reviews_it(submitted, vera, bob, mallory):
    for other in (vera, bob, mallory):
        with pytest.raises(workflow.WorkflowError, match="Only Victor"):
            workflow.approve_brief(submitted, by=other, answers=YES)
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.SUBMITTED


def test_a_manager_of_the_team_reviews_when_no_executive_joins(submitted, vera, walter, mallory):
    from callprep.models import Call

    Call.objects.filter(pk=submitted.call_id).update(executive=None)
    brief = Brief.objects.get(pk=submitted.pk)
    for other in (vera, walter):  # another executive; the manager of another team
        assert not brief.may_review(other)
        with pytest.raises(workflow.WorkflowError, match="Only a manager of the account's team"):
            workflow.approve_brief(brief, by=other, answers=YES)
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.SUBMITTED
    assert brief.may_review(mallory)
    approval = workflow.approve_brief(brief, by=mallory, answers=YES)
    assert approval.by == mallory
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.APPROVED


def test_approval_freezes_a_snapshot_of_every_section_and_the_answers(submitted, victor):
    approval = workflow.approve_brief(submitted, by=victor, answers=YES, comment="Good work.")
    brief = Brief.objects.get(pk=submitted.pk)
    assert brief.status == BriefStatus.APPROVED
    assert brief.approved_by == victor and brief.approved_at == approval.at
    assert approval.number == 1 and not approval.with_concerns
    assert set(approval.snapshot) == {s.key for s in brief.sections.all()}
    challenges = section(brief, "business_challenges")
    assert approval.snapshot["business_challenges"]["version"] == challenges.version
    assert approval.snapshot["business_challenges"]["text"] == challenges.text
    assert approval.answers["pain_confirmed"] == {"answer": "yes", "note": ""}
    entry = BriefTransition.objects.filter(brief=brief).last()
    assert (entry.action, entry.by, entry.comment) == ("approve", victor, "Good work.")


def test_a_doubtful_answer_makes_it_an_approval_with_concerns_that_must_be_put_in_words(
    submitted, victor
):
    answers = {**YES, "paper_process": {"answer": "unsure", "note": ""}}
    with pytest.raises(workflow.WorkflowError, match="write them down"):
        workflow.approve_brief(submitted, by=victor, answers=answers)
    answers["paper_process"]["note"] = "Nobody has talked to their procurement."
    approval = workflow.approve_brief(submitted, by=victor, answers=answers)
    assert approval.with_concerns
    assert approval.concern_lines() == [
        "Do we know the paper process (legal, security, procurement)? — Unsure: "
        "Nobody has talked to their procurement."
    ]
    assert BriefTransition.objects.filter(brief=submitted).last().action == (
        Action.APPROVE_WITH_CONCERNS
    )


def test_an_unanswered_sniff_test_is_refused(submitted, victor):
    answers = {k: v for k, v in YES.items() if k != "compelling_event"}
    with pytest.raises(workflow.WorkflowError, match="Answer every question"):
        workflow.approve_brief(submitted, by=victor, answers=answers)
    assert not Approval.objects.exists()


def test_requesting_changes_needs_words_and_leaves_comments_on_sections(submitted, victor):
    with pytest.raises(workflow.WorkflowError, match="Say what needs to change"):
        workflow.request_changes(submitted, by=victor)
    workflow.request_changes(
        submitted, by=victor, section_comments={"financial_condition": "Add their debt."}
    )
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.CHANGES_REQUESTED
    comment = SectionComment.objects.get(brief=submitted)
    assert (comment.section_key, comment.author, comment.body) == (
        "financial_condition",
        victor,
        "Add their debt.",
    )


def test_a_brief_with_changes_made_is_submitted_again(submitted, alice, victor):
    workflow.request_changes(submitted, by=victor, comment="More on their debt.")
    write(
        submitted,
        "financial_condition",
        section(submitted, "financial_condition").text + " Debt: 2 bn.",
        by=alice,
    )
    workflow.submit_brief(submitted, by=alice)
    actions = list(BriefTransition.objects.filter(brief=submitted).values_list("action", flat=True))
    assert actions == ["submit", "request_changes", "submit"]


def test_withdrawing_makes_it_a_draft_again(submitted, alice, bob):
    with pytest.raises(workflow.WorkflowError, match="Only the rep"):
        workflow.withdraw_brief(submitted, by=bob)
    workflow.withdraw_brief(submitted, by=alice)
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.DRAFT


def test_an_edit_after_approval_sends_the_brief_back_to_review(approved, alice):
    text = section(approved, "value_hypothesis").text + " We also cut their audit fees."
    write(approved, "value_hypothesis", text, by=alice, confirm_reopen=True)
    brief = Brief.objects.get(pk=approved.pk)
    assert brief.status == BriefStatus.SUBMITTED
    entry = BriefTransition.objects.filter(brief=brief).last()
    assert (entry.action, entry.from_status, entry.to_status) == ("reopen", "approved", "submitted")
    assert "Changed after approval: Value hypothesis." in entry.comment
    assert Approval.objects.get(brief=brief).superseded_at is not None


def test_an_edit_already_in_the_approval_does_not_reopen_it(approved, alice):
    s = section(approved, "value_hypothesis")
    assert workflow.reopen_after_edit(approved, by=alice, section=s) is False
    assert Brief.objects.get(pk=approved.pk).status == BriefStatus.APPROVED


def test_a_late_submission_and_approval_are_not_on_time_and_the_audit_trail_says_when(
    acme, make_call, victor, alice, settings
):
    from callprep.briefs import services
    from callprep.review.models import Notification, NotificationKind
    from tests.review.conftest import fill

    settings.BRIEF_DUE_HOURS = 72  # the call is in 2 days, so 72 h before it is already past
    call = make_call(acme, executive=victor, days=2)
    brief = services.start_brief(call, by=alice)
    fill(brief, alice)
    workflow.submit_brief(brief, by=alice)
    workflow.approve_brief(brief, by=victor, answers=YES)
    brief = Brief.objects.select_related("call").get(pk=brief.pk)
    assert brief.due == call.starts_at - timedelta(hours=72)
    assert brief.status == BriefStatus.APPROVED
    assert not brief.is_on_time()  # approved after its due time
    assert brief.is_prepared()  # but before the call
    # Nothing about lateness is stored: the audit trail keeps when each step happened.
    times = list(BriefTransition.objects.filter(brief=brief).values_list("action", "at"))
    assert [action for action, _ in times] == ["submit", "approve"]
    assert all(at > brief.due for _, at in times)
    told = Notification.objects.get(brief=brief, kind=NotificationKind.SUBMITTED)
    assert "It was submitted after its due time." in told.body


def test_the_due_time_defaults_to_48_hours_before_the_call(brief):
    assert brief.due == brief.call.starts_at - timedelta(hours=48)
    assert not brief.is_overdue(now=timezone.now())
    assert brief.is_overdue(now=brief.call.starts_at - timedelta(hours=47))


def test_the_executive_marks_the_brief_as_briefed_and_others_cannot(approved, victor, alice):
    with pytest.raises(workflow.WorkflowError, match="Only the executive"):
        workflow.mark_briefed(approved, by=alice)
    read = workflow.mark_briefed(approved, by=victor)
    assert read.approval.number == 1
    again = workflow.mark_briefed(approved, by=victor)
    assert ExecutiveRead.objects.filter(brief=approved).count() == 1
    assert again.read_at >= read.read_at
    assert BriefTransition.objects.filter(brief=approved, action="mark_briefed").count() == 2


def test_a_draft_cannot_be_marked_as_briefed(brief, victor):
    with pytest.raises(workflow.WorkflowError, match="still a draft"):
        workflow.mark_briefed(brief, by=victor)


def test_comments_are_threaded_and_resolvable(submitted, victor, alice, mallory):
    first = workflow.add_comment(
        submitted, by=victor, section_key="financial_condition", body="Where is the debt?"
    )
    reply = workflow.add_comment(submitted, by=alice, section_key="", body="Added.", parent=first)
    assert reply.parent == first and reply.section_key == "financial_condition"
    root = workflow.resolve_comment(reply, by=alice)
    assert root.pk == first.pk and root.resolved_by == alice
    with pytest.raises(workflow.WorkflowError, match="resolved already"):
        workflow.resolve_comment(first, by=victor)
    with pytest.raises(workflow.WorkflowError, match="Only the rep"):
        workflow.add_comment(submitted, by=mallory, section_key="call_plan", body="Hm.")

"""The review workflow of a brief: one function per transition.

    draft ──submit──▶ submitted ──approve──▶ approved
      ▲                 │  │                    │
      └───withdraw──────┘  └─request_changes─▶ changes_requested ──submit──▶ submitted
    approved ──(an edit to any section)──▶ submitted      (the approval was for other text)

Each function locks the brief (``select_for_update`` inside ``transaction.atomic()``), checks
the current state on the locked row, changes it, writes an audit entry (who, when, from, to,
comment) and leaves side effects (e-mail) to ``transaction.on_commit``. A refused transition
raises ``WorkflowError`` with a message for the user and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from callprep import timefmt
from callprep.briefs import sections as S
from callprep.briefs.models import Brief, BriefSection, BriefStatus
from callprep.briefs.services import reevaluate_sections
from callprep.dashboard.facts import sync_call_facts
from callprep.errors import WorkflowError
from callprep.review import notify as N
from callprep.review.models import (
    SNIFF_TEST,
    Action,
    Approval,
    BriefTransition,
    ExecutiveRead,
    NotificationKind,
    SectionComment,
    SniffAnswer,
    mark_read_on_act,
)

MAX_COMMENT = 5_000


STATUS_WORDS = {
    BriefStatus.DRAFT: "a draft",
    BriefStatus.SUBMITTED: "in review",
    BriefStatus.CHANGES_REQUESTED: "waiting for the requested changes",
    BriefStatus.APPROVED: "approved",
}


def _lock(brief: Brief) -> Brief:
    """The brief's row, locked until the transaction ends, with its call and people."""
    locked = (
        Brief.objects.select_for_update(of=("self",))
        .select_related("call__owner", "call__executive", "call__account", "created_by")
        .get(pk=brief.pk)
    )
    return locked


def _refuse_unless(brief: Brief, allowed: tuple[str, ...], doing: str) -> None:
    if brief.status not in allowed:
        raise WorkflowError(
            f"This brief cannot be {doing}: it is {STATUS_WORDS.get(brief.status, brief.status)}."
        )


def _record(
    brief: Brief, *, action: str, by, to_status: str, comment: str = "", now
) -> BriefTransition:
    """The audit entry of a step: who, when, from which status to which, and why."""
    return BriefTransition.objects.create(
        brief=brief,
        action=action,
        from_status=brief.status,
        to_status=to_status,
        by=by,
        at=now,
        comment=comment,
    )


def _copy_back(target: Brief, source: Brief) -> None:
    """Keep the caller's object in step with the locked row."""
    for name in (
        "status",
        "status_changed_at",
        "submitted_at",
        "approved_at",
        "approved_by_id",
    ):
        setattr(target, name, getattr(source, name))


def _clean_comment(comment: str) -> str:
    comment = (comment or "").replace("\r\n", "\n").strip()
    if len(comment) > MAX_COMMENT:
        raise WorkflowError(f"The comment is {len(comment):,} characters; the limit is 5,000.")
    return comment


def _event(entry: BriefTransition) -> str:
    """The event key of a notification about a step: the step's audit entry."""
    return f"transition:{entry.pk}"


def _link(name: str, brief: Brief, anchor: str = "") -> str:
    return reverse(name, args=[brief.pk]) + (f"#{anchor}" if anchor else "")


def _call_words(brief: Brief) -> str:
    call = brief.call
    return f"“{call.title}” with {call.account.name} ({timefmt.call_time(call)})"


def missing_sections(brief: Brief) -> list[str]:
    """What stops a submission: each required section that is not complete, and why.

    The same evaluation as the stored state (``BriefSection.evaluation``), so a brief shown
    as complete is never refused; the states are brought up to date first."""
    sections = reevaluate_sections(brief)
    problems = []
    for section, evaluation in sections:
        if section.required and evaluation.state != S.SectionState.COMPLETE:
            needed = "; ".join(evaluation.missing) or "not complete"
            problems.append(f"{section.title} (still needed: {needed})")
    return problems


# --- Transitions ------------------------------------------------------------------------------


def submit_brief(brief: Brief, *, by, comment: str = "") -> BriefTransition:
    """Send a draft (or a brief whose changes were made) to the reviewer.

    Every required section must be complete; the message lists what is missing.
    """
    comment = _clean_comment(comment)
    with transaction.atomic():
        locked = _lock(brief)
        if not locked.is_editable_by(by):
            raise WorkflowError("Only the rep who prepares this brief can submit it.")
        _refuse_unless(locked, (BriefStatus.DRAFT, BriefStatus.CHANGES_REQUESTED), "submitted")
        missing = missing_sections(locked)
        if missing:
            raise WorkflowError(
                "The brief cannot be submitted yet. Complete these required sections: "
                + "; ".join(missing)
                + "."
            )
        now = timezone.now()
        late = now > locked.due
        entry = _record(
            locked,
            action=Action.SUBMIT,
            by=by,
            to_status=BriefStatus.SUBMITTED,
            comment=comment,
            now=now,
        )
        Brief.objects.filter(pk=locked.pk).update(
            status=BriefStatus.SUBMITTED, status_changed_at=now, submitted_at=now
        )
        locked.status, locked.status_changed_at = BriefStatus.SUBMITTED, now
        locked.submitted_at = now
        sync_call_facts([locked.call_id])
        mark_read_on_act(by, brief=locked)
        N.notify(
            NotificationKind.SUBMITTED,
            N.reviewers_of(locked),
            event=_event(entry),
            subject=f"Brief to review: {locked.call.title}",
            body=f"{by} submitted the brief for {_call_words(locked)}."
            + (f"\n\n{comment}" if comment else "")
            + ("\n\nIt was submitted after its due time." if late else ""),
            url=_link("briefs:executive", locked),
            actor=by,
            brief=locked,
        )
    _copy_back(brief, locked)
    return entry


def withdraw_brief(brief: Brief, *, by, comment: str = "") -> BriefTransition:
    """Take a submitted brief back to draft (the rep wants to change it before review)."""
    comment = _clean_comment(comment)
    with transaction.atomic():
        locked = _lock(brief)
        if not locked.is_editable_by(by):
            raise WorkflowError("Only the rep who prepares this brief can withdraw it.")
        _refuse_unless(locked, (BriefStatus.SUBMITTED,), "withdrawn")
        now = timezone.now()
        entry = _record(
            locked,
            action=Action.WITHDRAW,
            by=by,
            to_status=BriefStatus.DRAFT,
            comment=comment,
            now=now,
        )
        Brief.objects.filter(pk=locked.pk).update(status=BriefStatus.DRAFT, status_changed_at=now)
        locked.status, locked.status_changed_at = BriefStatus.DRAFT, now
        sync_call_facts([locked.call_id])
        mark_read_on_act(by, brief=locked)
    _copy_back(brief, locked)
    return entry


def request_changes(
    brief: Brief,
    *,
    by,
    comment: str = "",
    section_comments: Mapping[str, str] | None = None,
) -> BriefTransition:
    """The reviewer sends the brief back with a comment, and/or comments on sections."""
    comment = _clean_comment(comment)
    notes = {
        key: _clean_comment(text)
        for key, text in (section_comments or {}).items()
        if key in S.SectionKey.values and (text or "").strip()
    }
    if not comment and not notes:
        raise WorkflowError("Say what needs to change: write a comment or comment on a section.")
    with transaction.atomic():
        locked = _lock(brief)
        if not locked.is_reviewable_by(by):
            raise WorkflowError(_not_reviewer(locked, by))
        _refuse_unless(locked, (BriefStatus.SUBMITTED,), "sent back for changes")
        now = timezone.now()
        summary = comment or "See the comments on the sections."
        entry = _record(
            locked,
            action=Action.REQUEST_CHANGES,
            by=by,
            to_status=BriefStatus.CHANGES_REQUESTED,
            comment=summary,
            now=now,
        )
        for key, text in notes.items():
            SectionComment.objects.create(
                brief=locked, section_key=key, author=by, body=text, created_at=now
            )
        Brief.objects.filter(pk=locked.pk).update(
            status=BriefStatus.CHANGES_REQUESTED, status_changed_at=now
        )
        locked.status, locked.status_changed_at = BriefStatus.CHANGES_REQUESTED, now
        sync_call_facts([locked.call_id])
        titles = ", ".join(S.spec_for(k).title for k in notes)
        mark_read_on_act(by, brief=locked)
        N.notify(
            NotificationKind.CHANGES_REQUESTED,
            N.writers_of(locked),
            event=_event(entry),
            subject=f"Changes requested: {locked.call.title}",
            body=f"{by} asked for changes to the brief for {_call_words(locked)}.\n\n{summary}"
            + (f"\n\nComments on: {titles}." if titles else ""),
            url=_link("briefs:edit", locked),
            actor=by,
            brief=locked,
        )
    _copy_back(brief, locked)
    return entry


def _not_reviewer(brief: Brief, user) -> str:
    if user.pk in (brief.call.owner_id, brief.created_by_id):
        return "You cannot review or approve your own brief."
    if brief.call.executive_id:
        return f"Only {brief.call.executive}, the executive joining the call, reviews this brief."
    return "Only a manager of the account's team reviews this brief (no executive joins the call)."


def clean_answers(answers: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The sniff-test answers, every question answered yes, no or unsure (else an error)."""
    cleaned: dict[str, dict[str, str]] = {}
    unanswered = []
    for question in SNIFF_TEST:
        given = answers.get(question.key) or {}
        answer = str(given.get("answer", "") or "")
        note = str(given.get("note", "") or "").strip()[:1000]
        if answer not in SniffAnswer.values:
            unanswered.append(question.question)
            continue
        cleaned[question.key] = {"answer": answer, "note": note}
    if unanswered:
        raise WorkflowError(
            "Answer every question of the sniff test (yes, no or unsure). Unanswered: "
            + " ".join(unanswered)
        )
    return cleaned


def approve_brief(
    brief: Brief,
    *,
    by,
    answers: Mapping[str, Mapping[str, str]],
    with_concerns: bool = False,
    concerns: str = "",
    comment: str = "",
) -> Approval:
    """Approve a submitted brief after the sniff test; freezes a snapshot of every section.

    An answer other than "yes" makes it an approval *with concerns*; approving with concerns
    needs the concerns in words (a note on a no/unsure answer, or the concerns field), which
    stay visible to the rep and on the executive view.
    """
    comment = _clean_comment(comment)
    concerns = _clean_comment(concerns)
    cleaned = clean_answers(answers)
    doubtful = [k for k, v in cleaned.items() if v["answer"] != SniffAnswer.YES]
    with_concerns = with_concerns or bool(doubtful)
    if with_concerns and not concerns and not any(cleaned[k]["note"] for k in doubtful):
        raise WorkflowError(
            "You are approving with concerns: write them down (a note on a “no” or “unsure” "
            "answer, or in the concerns field) so the rep can act on them."
        )
    with transaction.atomic():
        locked = _lock(brief)
        if not locked.is_reviewable_by(by):
            raise WorkflowError(_not_reviewer(locked, by))
        _refuse_unless(locked, (BriefStatus.SUBMITTED,), "approved")
        # Lock the sections too: a save racing this approval waits, then sees "approved" and
        # sends the brief back to review; a save that committed first is in the snapshot.
        sections = list(
            BriefSection.objects.select_for_update().filter(brief=locked).order_by("position")
        )
        snapshot = {}
        for section in sections:
            section.brief = locked
            snapshot[section.key] = {
                "title": section.title,
                "version": section.version,
                "text": section.text,
                "fields": section.fields,
                "plain": section.plain_text(),
            }
        now = timezone.now()
        number = (
            Approval.objects.filter(brief=locked)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
            or 0
        ) + 1
        approval = Approval.objects.create(
            brief=locked,
            number=number,
            by=by,
            at=now,
            snapshot=snapshot,
            answers=cleaned,
            with_concerns=with_concerns,
            concerns=concerns,
        )
        action = Action.APPROVE_WITH_CONCERNS if with_concerns else Action.APPROVE
        summary = "\n".join(filter(None, [comment, *approval.concern_lines()]))
        entry = _record(
            locked,
            action=action,
            by=by,
            to_status=BriefStatus.APPROVED,
            comment=summary,
            now=now,
        )
        Brief.objects.filter(pk=locked.pk).update(
            status=BriefStatus.APPROVED, status_changed_at=now, approved_at=now, approved_by=by
        )
        locked.status, locked.status_changed_at = BriefStatus.APPROVED, now
        locked.approved_at, locked.approved_by_id = now, by.pk
        sync_call_facts([locked.call_id])
        verb = "approved with concerns" if with_concerns else "approved"
        mark_read_on_act(by, brief=locked)
        N.notify(
            NotificationKind.APPROVED,
            N.writers_of(locked),
            event=_event(entry),
            subject=f"Brief {verb}: {locked.call.title}",
            body=f"{by} {verb} the brief for {_call_words(locked)} (version {number})."
            + (f"\n\n{summary}" if summary else ""),
            url=_link("briefs:executive", locked),
            actor=by,
            brief=locked,
        )
    _copy_back(brief, locked)
    return approval


def latest_approval(brief: Brief) -> Approval | None:
    return Approval.objects.filter(brief=brief).order_by("-number").first()


def reopen_recipients(brief: Brief, approval: Approval | None) -> list:
    """Whom an edit to an approved brief is told to: its reviewers and whoever approved it."""
    recipients = N.reviewers_of(brief)
    if approval is not None and approval.by is not None and approval.by.is_active:
        recipients.append(approval.by)
    return list({person.pk: person for person in recipients}.values())


def reopen_warning(brief: Brief) -> str:
    """What the editor says before the first change to an approved brief is saved."""
    people = reopen_recipients(brief, latest_approval(brief))
    names = " and ".join(str(person) for person in people) or "its reviewer"
    return (
        f"Editing this approved brief sends it back to review; {names} will be told what changed."
    )


def changed_since(approval: Approval, brief: Brief) -> list[str]:
    """The titles of the sections whose text moved on since ``approval`` (by version, as the
    "changes since approval" page compares them), in the brief's order."""
    versions = BriefSection.objects.filter(brief=brief).order_by("position")
    return [
        S.spec_for(key).title
        for key, version in versions.values_list("key", "version")
        if approval.section_version(key) != version
    ]


def reopen_after_edit(brief: Brief, *, by, section: BriefSection) -> bool:
    """An edit to an approved brief sends it back to review: the approval was for other text.

    Called by ``services.save_section`` after a save the editor confirmed
    (``confirm_reopen``). True when the brief was reopened; an edit that the latest approval
    already contains (it raced the approval and lost) is not a change since approval. The
    reviewers are told which sections changed.
    """
    with transaction.atomic():
        locked = _lock(brief)
        if locked.status != BriefStatus.APPROVED:
            return False
        approval = latest_approval(locked)
        if approval is not None and approval.section_version(section.key) == section.version:
            return False
        now = timezone.now()
        changed = changed_since(approval, locked) if approval is not None else [section.title]
        changed_words = ", ".join(changed) or section.title
        entry = _record(
            locked,
            action=Action.REOPEN,
            by=by,
            to_status=BriefStatus.SUBMITTED,
            comment=f"Changed after approval: {changed_words}.",
            now=now,
        )
        if approval is not None:
            Approval.objects.filter(pk=approval.pk, superseded_at__isnull=True).update(
                superseded_at=now
            )
        Brief.objects.filter(pk=locked.pk).update(
            status=BriefStatus.SUBMITTED, status_changed_at=now, submitted_at=now
        )
        locked.status, locked.status_changed_at = BriefStatus.SUBMITTED, now
        locked.submitted_at = now
        sync_call_facts([locked.call_id])
        mark_read_on_act(by, brief=locked)
        version = f" (version {approval.number})" if approval is not None else ""
        N.notify(
            NotificationKind.REOPENED,
            reopen_recipients(locked, approval),
            event=_event(entry),
            subject=f"Approved brief changed: {locked.call.title}",
            body=f"{by} changed the brief for {_call_words(locked)} after it was approved"
            f"{version}.\n\nChanged: {changed_words}.\n\nIt is back in your review queue; see "
            "what changed since approval.",
            url=_link("briefs:changes", locked),
            actor=by,
            brief=locked,
        )
    _copy_back(brief, locked)
    return True


def mark_briefed(brief: Brief, *, by) -> ExecutiveRead:
    """The executive read the brief before the call. Marking again updates the time."""
    with transaction.atomic():
        locked = _lock(brief)
        if locked.status == BriefStatus.DRAFT:
            raise WorkflowError("This brief is still a draft; there is nothing to be briefed on.")
        if not locked.may_mark_briefed(by):
            raise WorkflowError("Only the executive joining the call marks the brief as briefed.")
        now = timezone.now()
        approval = latest_approval(locked) if locked.status == BriefStatus.APPROVED else None
        read, _created = ExecutiveRead.objects.update_or_create(
            brief=locked, user=by, defaults={"read_at": now, "approval": approval}
        )
        version = f" (approved version {approval.number})" if approval else ""
        _record(
            locked,
            action=Action.MARK_BRIEFED,
            by=by,
            to_status=locked.status,
            comment=f"Read the executive view{version}.",
            now=now,
        )
        sync_call_facts([locked.call_id])
        mark_read_on_act(by, brief=locked)
    return read


# --- Comments -----------------------------------------------------------------------------


def can_comment(brief: Brief, user) -> bool:
    return brief.may_comment(user)


def add_comment(
    brief: Brief, *, by, section_key: str, body: str, parent: SectionComment | None = None
) -> SectionComment:
    """A comment on a section (or a reply in a thread); the other side is notified."""
    if not can_comment(brief, by):
        raise WorkflowError("Only the rep preparing the brief and its reviewer can comment.")
    body = _clean_comment(body)
    if not body:
        raise WorkflowError("Write something before you post the comment.")
    if parent is not None:
        if parent.brief_id != brief.pk:
            raise WorkflowError("That comment belongs to another brief.")
        parent = parent.parent or parent  # one level of replies: answer the thread
        section_key = parent.section_key
    if section_key not in S.SectionKey.values:
        raise WorkflowError("Choose the section the comment is about.")
    with transaction.atomic():
        comment = SectionComment.objects.create(
            brief=brief, section_key=section_key, parent=parent, author=by, body=body
        )
        if parent is not None and parent.resolved_at is not None:
            SectionComment.objects.filter(pk=parent.pk).update(resolved_at=None, resolved_by=None)
        title = S.spec_for(section_key).title
        recipients = [*N.writers_of(brief)]
        if brief.call.executive_id:
            recipients.append(brief.call.executive)
        if parent is not None:
            recipients.extend(
                c.author
                for c in SectionComment.objects.filter(pk=parent.pk).select_related("author")
                if c.author
            )
        mark_read_on_act(by, brief=brief)
        N.notify(
            NotificationKind.COMMENT,
            recipients,
            event=f"comment:{comment.pk}",
            subject=f"Comment on {title}: {brief.call.title}",
            body=f"{by} commented on “{title}”:\n\n{body}",
            url=_link("briefs:comments", brief, comment.anchor()),
            actor=by,
            brief=brief,
        )
    return comment


def resolve_comment(comment: SectionComment, *, by, resolved: bool = True) -> SectionComment:
    """Mark a thread resolved (or open it again)."""
    brief = comment.brief
    if not can_comment(brief, by):
        raise WorkflowError(
            "Only the rep preparing the brief and its reviewer can resolve comments."
        )
    root = comment.parent or comment
    with transaction.atomic():
        if resolved:
            updated = SectionComment.objects.filter(pk=root.pk, resolved_at__isnull=True).update(
                resolved_at=timezone.now(), resolved_by=by
            )
            if not updated:
                raise WorkflowError("This comment is resolved already.")
        else:
            updated = SectionComment.objects.filter(pk=root.pk, resolved_at__isnull=False).update(
                resolved_at=None, resolved_by=None
            )
            if not updated:
                raise WorkflowError("This comment is open already.")
        mark_read_on_act(by, brief=brief)
    root.refresh_from_db()
    return root

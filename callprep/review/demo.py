"""Demo seed for the review workflow and the prep dashboard.

``seed_reviews(calls, plan=…)`` walks complete upcoming briefs into every review state (a
queue for ``vp``, comments for the reps, notifications for all three). ``seed_history(users,
accounts)`` gives the manager dashboard twelve weeks of past calls whose briefs were approved
on time, late, never, or never started. ``callprep.demo.seed`` calls both after
``seed_briefs``.

Every change goes through ``callprep.workflow`` (so audit entries, approval snapshots and
notifications are real); the history is then **backdated** with queryset ``update()`` calls —
demo-only code, see ``_backdate``. Idempotent: a brief that already has an audit trail is not
walked again, and backdating writes the same values on every run.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from callprep import workflow
from callprep.briefs.models import Brief, BriefSection, SectionRevision, due_at_for
from callprep.review.models import (
    SNIFF_TEST,
    Action,
    Approval,
    BriefTransition,
    ExecutiveRead,
    Notification,
    SectionComment,
)

# Without a plan, the complete demo briefs, earliest call first, take these paths in turn.
PATHS = ("submitted", "approved", "changes_requested", "approved_with_concerns", "submitted")

DEFAULT_SECTION_COMMENTS = {
    "financial_condition": "What is their debt and cash position now?",
    "call_plan": "What exactly should I ask their CFO?",
}


def _reviewer(brief: Brief):
    from accounts.models import User

    if brief.call.executive_id:
        return brief.call.executive
    return User.objects.filter(groups__name="Executive", is_active=True).order_by("pk").first()


def _yes() -> dict[str, dict[str, str]]:
    return {q.key: {"answer": "yes", "note": ""} for q in SNIFF_TEST}


CONCERNS = {
    "economic_buyer_met": {
        "answer": "no",
        "note": "Nobody on our side has met the CFO yet; set up a call first.",
    },
    "paper_process": {
        "answer": "unsure",
        "note": "Ask procurement how long their security review takes.",
    },
}


def walk(brief: Brief, path: str, *, reviewer, section_comments=None) -> None:
    """Take a complete draft along one review path, through the workflow functions."""
    rep = brief.call.owner
    workflow.submit_brief(brief, by=rep, comment="Ready for your review.")
    if path in ("approved", "approved_briefed"):
        workflow.approve_brief(
            brief, by=reviewer, answers=_yes(), comment="Clear and customer-led."
        )
        if path == "approved_briefed":
            workflow.mark_briefed(brief, by=reviewer)
    elif path == "approved_with_concerns":
        workflow.approve_brief(brief, by=reviewer, answers={**_yes(), **CONCERNS})
    elif path == "changes_requested":
        workflow.request_changes(
            brief,
            by=reviewer,
            comment="Good start; two gaps before I join.",
            section_comments=section_comments or DEFAULT_SECTION_COMMENTS,
        )


def seed_reviews(calls, *, plan=None) -> dict[str, int]:
    """Walk complete upcoming briefs without an audit trail into review states.

    ``plan`` maps a call's ``ical_uid`` to a path (``"submitted"``, ``"approved"``,
    ``"approved_briefed"``, ``"changes_requested"``, ``"approved_with_concerns"``), or to
    ``(path, {section key: comment})``; without a plan the briefs take ``PATHS`` in call order.
    Returns how many briefs took each path.
    """
    done: dict[str, int] = {}
    now = timezone.now()
    briefs = (
        Brief.objects.filter(call__in=[c.pk for c in calls], call__starts_at__gt=now)
        .exclude(pk__in=BriefTransition.objects.values("brief"))
        .select_related("call__owner", "call__executive", "call__account")
        .order_by("call__starts_at")
    )
    if plan is None:
        complete = [b for b in briefs if not workflow.missing_sections(b)]
        steps = [(b, path, None) for b, path in zip(complete, PATHS, strict=False)]
    else:
        steps = []
        for brief in briefs:
            entry = plan.get(brief.call.ical_uid)
            if entry is None or workflow.missing_sections(brief):
                continue
            path, comments = entry if isinstance(entry, tuple) else (entry, None)
            steps.append((brief, path, comments))
    for brief, path, comments in steps:
        reviewer = _reviewer(brief)
        if reviewer is None:
            break
        walk(brief, path, reviewer=reviewer, section_comments=comments)
        done[path] = done.get(path, 0) + 1
    return done


# --- History for the prep dashboard -------------------------------------------------------------

HISTORY_WEEKS = 12

# Accounts with complete content (``callprep.demo.full_brief``) take any outcome; the others
# only "draft" (their partial draft) or "none".
HISTORY_ACCOUNTS = {
    "rep": (("northwind", "helio", "maple", "alpenbank"), ("brightpath", "kestrel")),
    "rep2": (("quanta", "pampas", "orbis", "aurora"), ("sakura", "tidewater")),
}

HISTORY_TITLES = {
    "discovery": ("Discovery: operations priorities", "Discovery with the finance team"),
    "business_review": ("Quarterly business review", "Business review: results so far"),
    "executive_visit": ("Executive visit: strategy", "Executive sponsor meeting"),
    "negotiation": ("Commercial terms", "Negotiation: scope and price"),
    "other": ("Workshop: success criteria", "Reference call follow-up"),
}
HISTORY_KINDS = (
    ["discovery"] * 4
    + ["business_review"] * 3
    + ["executive_visit"] * 2
    + ["negotiation"] * 2
    + ["other"]
)

# Hours before the call (negative: after it) that an approval came, by outcome.
ON_TIME_LEADS = (120, 72, 96, 144, 60)
LATE_LEADS = (24, 30, 12, 2, -20)


@dataclass(frozen=True)
class PastCall:
    """One history call and what happened to its brief (all hours are before the call)."""

    uid: str
    rep: str
    slug: str
    title: str
    kind: str
    days_ago: int
    hour: int
    with_vp: bool
    # none | draft | submitted | changes | approved | revised (changes, then approved)
    outcome: str
    submit_h: float = 0
    review_h: float = 0  # changes requested (changes, revised)
    resubmit_h: float = 0  # revised
    approve_h: float | None = None
    read_h: float | None = None


def history_plan() -> list[PastCall]:
    """The history, the same on every run: 3 to 5 calls per rep and week for twelve weeks,
    preparation improving over time. A few calls are pinned so the dashboard shows each case:
    approved exactly at the due time (on time), approved late, and submitted but never
    approved (these sit in the queue as overdue)."""
    from callprep.briefs.models import due_hours

    due = due_hours()
    pinned = {
        (4, 0): ("approved", float(due)),  # exactly at the due time: on time
        (7, 1): ("approved", 24.0),  # a day before the call: late
        (9, 0): ("submitted", None),  # submitted, never approved
    }
    plan: list[PastCall] = []
    for rep, (full, partial) in HISTORY_ACCOUNTS.items():
        rng = random.Random(f"salesprep-demo-history-{rep}")
        for week in range(HISTORY_WEEKS, 0, -1):
            quality = (HISTORY_WEEKS - week) / (HISTORY_WEEKS - 1)  # 0 oldest … 1 latest
            for n in range(rng.choice((3, 4, 4, 5))):
                kind = rng.choice(HISTORY_KINDS)
                with_vp = kind == "executive_visit" or (
                    kind in ("business_review", "negotiation") and rng.random() < 0.4
                )
                r = rng.random()
                approve_h = None
                if (week, n) in pinned:
                    outcome, approve_h = pinned[(week, n)]
                elif r < 0.30 + 0.45 * quality:
                    outcome, approve_h = "approved", float(rng.choice(ON_TIME_LEADS))
                    if rng.random() < 0.25:
                        outcome = "revised"
                elif r < 0.55 + 0.35 * quality:
                    outcome, approve_h = "approved", float(rng.choice(LATE_LEADS))
                elif r < 0.63 + 0.30 * quality:
                    outcome = "changes"
                elif r < 0.80 + 0.15 * quality:
                    outcome = "draft"
                else:
                    outcome = "none"
                slug = rng.choice(full if outcome not in ("draft", "none") else full + partial)
                submit_h = review_h = resubmit_h = 0.0
                if outcome in ("approved", "revised"):
                    # Submitted some hours before the approval (and before the call).
                    submit_h = max(approve_h, 0.0) + rng.choice((4, 20, 26, 50))
                    if outcome == "revised":
                        resubmit_h = approve_h + 5
                        review_h = resubmit_h + 18
                        submit_h = review_h + 24
                elif outcome == "changes":
                    submit_h, review_h = 80.0, 60.0
                elif outcome == "submitted":
                    submit_h = 72.0
                read_h = None
                reads = rng.random() < 0.35 + 0.55 * quality
                if with_vp and approve_h is not None and approve_h > 1 and reads:
                    read_h = min(approve_h - 1, float(rng.choice((3, 14, 22, 40))))
                plan.append(
                    PastCall(
                        uid=f"demo-history-{rep}-w{week:02d}-{n}@salesprep",
                        rep=rep,
                        slug=slug,
                        title=rng.choice(HISTORY_TITLES[kind]),
                        kind=kind,
                        # At most one day short of twelve weeks: a call on the 84th local day
                        # back is more than twelve weeks ago once the clock passes its hour.
                        days_ago=min(7 * (week - 1) + rng.randint(1, 7), 7 * HISTORY_WEEKS - 1),
                        hour=rng.choice((9, 10, 11, 13, 14, 15, 16)),
                        with_vp=with_vp,
                        outcome=outcome,
                        submit_h=submit_h,
                        review_h=review_h,
                        resubmit_h=resubmit_h,
                        approve_h=approve_h,
                        read_h=read_h,
                    )
                )
    return plan


def seed_history(users, accounts) -> dict[str, int]:
    """Create the history calls and their briefs (once), then backdate them (every run, to
    the same values). Returns the count of history calls by outcome."""
    from callprep import demo
    from callprep.briefs import services

    today = timezone.localdate()
    vp = users["vp"]
    counts: dict[str, int] = {}
    for past in history_plan():
        account = accounts[past.slug]
        call = demo.upsert_call(
            users,
            account,
            uid=past.uid,
            title=past.title,
            kind=past.kind,
            starts=demo.local_start(account, today - dt.timedelta(days=past.days_ago), past.hour),
            with_vp=past.with_vp,
        )
        counts[past.outcome] = counts.get(past.outcome, 0) + 1
        if past.outcome == "none":
            continue
        brief = Brief.objects.filter(call=call).select_related("call__owner").first()
        if brief is None:
            content = demo.full_brief(past.slug)
            # As a rep would: start from the account's previous brief (the history is seeded
            # oldest first) and write only what is not complete yet. A draft starts afresh.
            source = Brief.objects.latest_for_account(account, exclude_call=call)
            carry = (
                past.outcome != "draft"
                and source is not None
                and source.call.starts_at < call.starts_at
            )
            brief = services.start_brief(call, by=call.owner, carry_forward=carry)
            if past.outcome == "draft":
                # Started, never finished: the account's draft, or the first two sections.
                content = demo.DEMO_BRIEFS.get(past.slug) or dict(list(content.items())[:2])
            demo.write_sections(brief, content, by=call.owner, only_incomplete=carry)
            _walk_history(brief, past, reviewer=vp)
        _backdate(brief, call, past)
    return counts


def _walk_history(brief: Brief, past: PastCall, *, reviewer) -> None:
    rep = brief.call.owner
    if past.outcome == "draft":
        return
    workflow.submit_brief(brief, by=rep)
    if past.outcome in ("changes", "revised"):
        workflow.request_changes(
            brief,
            by=reviewer,
            comment="Tell me more about their side before I sign this off.",
            section_comments={"deal_check": "Who on their side confirmed the timeline?"},
        )
        if past.outcome == "changes":
            return
        workflow.submit_brief(brief, by=rep, comment="Timeline confirmed by their champion.")
    if past.approve_h is not None:
        workflow.approve_brief(brief, by=reviewer, answers=_yes())
        if past.read_h is not None:
            workflow.mark_briefed(brief, by=reviewer)


STATUS_CHANGES = {
    Action.SUBMIT,
    Action.WITHDRAW,
    Action.REQUEST_CHANGES,
    Action.APPROVE,
    Action.APPROVE_WITH_CONCERNS,
    Action.REOPEN,
}


def _backdate(brief: Brief, call, past: PastCall) -> None:
    """Demo only: move a history brief's workflow timestamps from "now" (when the seed ran
    the workflow) to the times ``past`` describes, relative to the call's start, keeping the
    lateness flags consistent with them the way the workflow computes them: ``late`` is
    ``at > due_at`` with ``due_at = starts_at - BRIEF_DUE_HOURS`` (exactly at the due time is
    on time). Writes the same values on every run."""
    # In UTC: aware arithmetic in the call's own zone is wall-clock time, an hour off across a
    # daylight-saving change, while the workflow and the dashboard compute on UTC values.
    start = call.starts_at.astimezone(dt.UTC)
    due = due_at_for(start)

    def before(hours: float) -> dt.datetime:
        return start - dt.timedelta(hours=hours)

    # The audit entries in the order the workflow wrote them, and the time each one gets.
    times = {
        Action.REQUEST_CHANGES: [before(past.review_h)],
        Action.APPROVE: [before(past.approve_h)] if past.approve_h is not None else [],
        Action.MARK_BRIEFED: [before(past.read_h)] if past.read_h is not None else [],
    }
    times[Action.SUBMIT] = [before(past.submit_h)] + (
        [before(past.resubmit_h)] if past.outcome == "revised" else []
    )
    started = before(max(past.submit_h, 72.0) + 48)  # the rep started two days earlier
    used = dict.fromkeys(times, 0)
    last_status_change = None
    submitted = approved = None
    for entry in BriefTransition.objects.filter(brief=brief).order_by("at", "pk"):
        stamps = times.get(entry.action, [])
        at = stamps[min(used[entry.action], len(stamps) - 1)] if stamps else started
        used[entry.action] = used.get(entry.action, 0) + 1
        late = entry.action in (Action.SUBMIT, Action.APPROVE) and at > due
        if entry.at != at or entry.late != late:
            BriefTransition.objects.filter(pk=entry.pk).update(at=at, late=late)
        if entry.action in STATUS_CHANGES:
            last_status_change = at
        if entry.action == Action.SUBMIT:
            submitted = at
        if entry.action == Action.APPROVE:
            approved = at
    edited = started + dt.timedelta(hours=2)
    Brief.objects.filter(pk=brief.pk).update(
        created_at=started,
        due_at=due,
        status_changed_at=last_status_change,
        submitted_at=submitted,
        submitted_late=submitted is not None and submitted > due,
        approved_at=approved,
        approved_late=approved is not None and approved > due,
    )
    BriefSection.objects.filter(brief=brief, updated_at__isnull=False).update(updated_at=edited)
    SectionRevision.objects.filter(section__brief=brief).update(created_at=edited, saved_at=edited)
    if approved is not None:
        Approval.objects.filter(brief=brief).update(at=approved, late=approved > due)
    if times[Action.REQUEST_CHANGES] and past.review_h:
        review = times[Action.REQUEST_CHANGES][0]
        resolved = times[Action.SUBMIT][-1] if past.outcome == "revised" else None
        SectionComment.objects.filter(brief=brief).update(
            created_at=review,
            resolved_at=resolved,
            resolved_by=call.owner if resolved else None,
        )
    if times[Action.MARK_BRIEFED]:
        ExecutiveRead.objects.filter(brief=brief).update(read_at=times[Action.MARK_BRIEFED][0])
    # The notifications of past activity would only bury the live ones (their e-mail tasks,
    # if queued, find nothing to send).
    Notification.objects.filter(brief=brief).delete()

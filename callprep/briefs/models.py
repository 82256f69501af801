"""Briefs, their sections and the revisions of each section.

Rules about one object live here (``brief.completeness()``, ``section.evaluation()``); read
queries live on querysets (``Brief.objects.visible_to(user)``). Changes go through
callprep/briefs/services.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Count, F, FloatField, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Length, NullIf, Round
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from accounts import visibility
from callprep.briefs import sections as S
from callprep.briefs.focus import Focus
from callprep.briefs.rendering import claim_counts
from callprep.expressions import Hours

__all__ = [
    "Brief",
    "BriefQuerySet",
    "BriefSection",
    "BriefStatus",
    "RevisionKind",
    "SectionRevision",
    "calls_with_brief",
    "due_at_for",
    "due_hours",
    "required_sections",
]


class BriefStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"


# --- The rules of a call's preparation ---------------------------------------------------------
#
# Each rule is a Python function of the values it reads, with its queryset twin beside it: a
# ``Q`` built from the same definition, over whichever model a query reads (a brief, a call, or
# the dashboard's facts of a call: ``Paths`` says where each input lives). Model methods
# (``Brief.is_on_time()``, ``Call.waiting_on_rep()``) call the functions; querysets, the
# dashboard, reminders, exports and tests call the ``Q``s. Nothing else restates them.


def due_hours() -> int:
    """A brief is due this many hours before its call (setting BRIEF_DUE_HOURS, default 48)."""
    return int(getattr(settings, "BRIEF_DUE_HOURS", 48))


def due_at_for(starts_at: datetime | None) -> datetime | None:
    """**Due time**: ``BRIEF_DUE_HOURS`` before the call's current start."""
    return starts_at - timedelta(hours=due_hours()) if starts_at else None


NO_BRIEF = ""  # the brief status of a call that has no brief
WITH_REP = (NO_BRIEF, BriefStatus.DRAFT, BriefStatus.CHANGES_REQUESTED)


@dataclass(frozen=True)
class Paths:
    """Where a rule's inputs live, seen from the model a queryset reads."""

    starts_at: str
    call_status: str
    brief_status: str
    approved_at: str
    # How that model says "the call has no brief".
    no_brief: Q

    def due(self):
        """The due time as an expression (follows the call's start)."""
        return F(self.starts_at) - Hours(due_hours())

    def brief_in(self, statuses) -> Q:
        q = Q(**{f"{self.brief_status}__in": [s for s in statuses if s != NO_BRIEF]})
        return q | self.no_brief if NO_BRIEF in statuses else q


FROM_BRIEF = Paths("call__starts_at", "call__status", "status", "approved_at", Q(pk__in=[]))
FROM_CALL = Paths(
    "starts_at", "status", "brief__status", "brief__approved_at", Q(brief__isnull=True)
)
FROM_FACT = Paths("starts_at", "status", "brief_status", "approved_at", Q(brief_status=NO_BRIEF))


def is_on_time(brief_status: str | None, approved_at, starts_at) -> bool:
    """**On time**: approved at or before the due time (live from the call as it is now)."""
    return (
        brief_status == BriefStatus.APPROVED
        and approved_at is not None
        and approved_at <= due_at_for(starts_at)
    )


def on_time_q(p: Paths = FROM_BRIEF) -> Q:
    return Q(**{p.brief_status: BriefStatus.APPROVED, f"{p.approved_at}__lte": p.due()})


def is_prepared(brief_status: str | None, approved_at, starts_at) -> bool:
    """**Prepared**: approved before the call started (lead time is then not negative)."""
    return (
        brief_status == BriefStatus.APPROVED
        and approved_at is not None
        and approved_at <= starts_at
    )


def prepared_q(p: Paths = FROM_BRIEF) -> Q:
    return Q(**{p.brief_status: BriefStatus.APPROVED, f"{p.approved_at}__lte": F(p.starts_at)})


def lead_time(brief_status: str | None, approved_at, starts_at) -> timedelta | None:
    """**Lead time**: from approval to the call's current start, for an approved brief."""
    if brief_status != BriefStatus.APPROVED or approved_at is None:
        return None
    return starts_at - approved_at


def _still_ahead(call_status: str, starts_at, now) -> bool:
    from callprep.models import CallStatus

    return call_status == CallStatus.SCHEDULED and starts_at > now


def _still_ahead_q(p: Paths, now) -> Q:
    from callprep.models import CallStatus

    return Q(**{p.call_status: CallStatus.SCHEDULED, f"{p.starts_at}__gt": now})


def is_waiting_on_rep(brief_status: str | None, call_status: str, starts_at, now) -> bool:
    """**Overdue, waiting on the rep**: no brief, a draft or changes requested, past its due
    time, while the call is still ahead and not cancelled."""
    return (
        (brief_status or NO_BRIEF) in WITH_REP
        and now > due_at_for(starts_at)
        and _still_ahead(call_status, starts_at, now)
    )


def waiting_on_rep_q(now, p: Paths = FROM_BRIEF) -> Q:
    past_due = Q(**{f"{p.starts_at}__lt": now + timedelta(hours=due_hours())})
    return p.brief_in(WITH_REP) & past_due & _still_ahead_q(p, now)


def is_waiting_on_reviewer(brief_status: str | None, call_status: str, starts_at, now) -> bool:
    """**Overdue, waiting on the reviewer**: submitted, past its due time, while the call is
    still ahead and not cancelled."""
    return (
        brief_status == BriefStatus.SUBMITTED
        and now > due_at_for(starts_at)
        and _still_ahead(call_status, starts_at, now)
    )


def waiting_on_reviewer_q(now, p: Paths = FROM_BRIEF) -> Q:
    past_due = Q(**{f"{p.starts_at}__lt": now + timedelta(hours=due_hours())})
    return Q(**{p.brief_status: BriefStatus.SUBMITTED}) & past_due & _still_ahead_q(p, now)


def overdue_q(now, p: Paths = FROM_BRIEF) -> Q:
    """**Overdue**: either of the two cases above (never after the call, never cancelled)."""
    return waiting_on_rep_q(now, p) | waiting_on_reviewer_q(now, p)


def is_in_review_queue(brief_status: str | None, call_status: str, starts_at, now) -> bool:
    """**In the review queue**: submitted, and the call is still ahead and not cancelled."""
    return brief_status == BriefStatus.SUBMITTED and _still_ahead(call_status, starts_at, now)


def in_review_queue_q(now, p: Paths = FROM_BRIEF) -> Q:
    return Q(**{p.brief_status: BriefStatus.SUBMITTED}) & _still_ahead_q(p, now)


class BriefQuerySet(models.QuerySet):
    def visible_to(self, user) -> BriefQuerySet:
        """Briefs the user may read: those of the calls they may read (accounts/visibility.py)."""
        return self.filter(visibility.briefs_q(user))

    def reviewable_by(self, user) -> BriefQuerySet:
        """Briefs the user may review (``Brief.may_review``)."""
        return self.filter(visibility.reviewer_q(user))

    def in_review_queue(self, now=None) -> BriefQuerySet:
        """Submitted briefs whose call is still ahead and not cancelled (``in_review_queue_q``):
        approving after the call is no preparation."""
        return self.filter(in_review_queue_q(now or timezone.now()))

    def waiting_on_rep(self, now=None) -> BriefQuerySet:
        return self.filter(waiting_on_rep_q(now or timezone.now()))

    def waiting_on_reviewer(self, now=None) -> BriefQuerySet:
        return self.filter(waiting_on_reviewer_q(now or timezone.now()))

    def on_time(self) -> BriefQuerySet:
        return self.filter(on_time_q())

    def editable_by(self, user) -> BriefQuerySet:
        return self.filter(visibility.editable_briefs_q(user))

    def with_completeness(self) -> BriefQuerySet:
        """Annotate ``required_total`` and ``required_complete`` (one query, no N+1), counted
        by the one completeness rule, ``required_sections``."""
        return self.annotate(
            required_total=required_sections("brief", complete=False),
            required_complete=required_sections("brief", complete=True),
        )

    def latest_for_account(self, account, *, exclude_call=None) -> Brief | None:
        qs = self.filter(call__account=account)
        if exclude_call is not None:
            qs = qs.exclude(call=exclude_call)
        return qs.order_by("-call__starts_at", "-created_at", "-pk").first()


def required_sections(
    brief: str, *, complete: bool, outer: str = "pk", other_than_outer: bool = False
) -> Coalesce:
    """**Completeness**, the queryset side: how many required sections (``complete`` ones, or
    all) the brief of the outer row has, as a subquery. ``brief`` is the path from a section to
    what the outer row is (``"brief__call"`` for calls and their facts, ``"brief"`` for
    sections), ``outer`` that row's field; ``other_than_outer`` leaves the outer section out.
    ``Brief.completeness()`` is the same count over loaded sections."""
    condition = Q(**{brief: OuterRef(outer)}, required=True)
    if complete:
        condition &= Q(state=S.SectionState.COMPLETE)
    if other_than_outer:
        condition &= ~Q(pk=OuterRef("pk"))
    counts = (
        BriefSection.objects.filter(condition)
        .order_by()
        .values(brief)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def calls_with_brief(calls: models.QuerySet) -> models.QuerySet:
    """Calls with their brief and its completeness, for "My calls" and the account page.

    Adds ``brief`` (select_related) and the annotations ``brief_required_total`` and
    ``brief_required_complete`` and ``brief_completeness_percent`` (0-100); show them with
    ``{% include "briefs/_brief_cell.html" %}``.
    """
    calls = calls.select_related("brief").annotate(
        brief_required_total=required_sections("brief__call", complete=False),
        brief_required_complete=required_sections("brief__call", complete=True),
    )
    return calls.annotate(
        brief_completeness_percent=Coalesce(
            Round(
                Cast("brief_required_complete", FloatField())
                * 100.0
                / NullIf(Cast("brief_required_total", FloatField()), 0.0)
            ),
            0.0,
        )
    )


def percent(complete: int, total: int) -> int:
    return round(100 * complete / total) if total else 0


class Brief(models.Model):
    """The rep's preparation for one call: eight sections about the customer and the call."""

    call = models.OneToOneField("callprep.Call", on_delete=models.CASCADE, related_name="brief")
    status = models.CharField(max_length=20, choices=BriefStatus.choices, default=BriefStatus.DRAFT)
    carried_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="carried_into",
        help_text="The earlier brief this one was started from.",
    )
    # Names that identify the customer in text (account, stakeholders), for the focus meter;
    # refreshed when the editor opens so autosave needs no extra query.
    customer_terms = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # What happened and when, set by callprep/workflow.py. Whether a step was on time is not
    # stored: it follows from these times and the call's current start (the rules above).
    status_changed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = BriefQuerySet.as_manager()

    class Meta:
        app_label = "callprep"
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The review queue: the few submitted briefs among years of history.
            models.Index(fields=["status"], name="brief_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Brief for {self.call.title}"

    def get_absolute_url(self) -> str:
        return reverse("briefs:detail", args=[self.pk])

    def get_edit_url(self) -> str:
        return reverse("briefs:edit", args=[self.pk])

    # The brief's customer is its call's account, everywhere (the rule "the brief's customer").
    @property
    def account(self):
        return self.call.account

    @property
    def account_id(self) -> int:
        return self.call.account_id

    def is_editable_by(self, user) -> bool:
        return self.call.is_editable_by(user)

    def may_review(self, user) -> bool:
        """Who reviews (approves or requests changes): ``visibility.may_review``."""
        return visibility.may_review(self, user)

    def is_reviewable_by(self, user) -> bool:
        return self.may_review(user)

    def may_mark_briefed(self, user) -> bool:
        """Only the executive joining the call marks its brief as briefed, once it is out of
        draft."""
        return self.status != BriefStatus.DRAFT and visibility.may_mark_briefed(self.call, user)

    def may_comment(self, user) -> bool:
        return self.is_editable_by(user) or self.may_review(user)

    # --- The rules, read on this brief and its call as they are now -------------------------

    @property
    def due(self):
        """When the brief is due: BRIEF_DUE_HOURS before the call's current start."""
        return due_at_for(self.call.starts_at)

    def is_on_time(self) -> bool:
        return is_on_time(self.status, self.approved_at, self.call.starts_at)

    def is_prepared(self) -> bool:
        return is_prepared(self.status, self.approved_at, self.call.starts_at)

    def lead_time(self) -> timedelta | None:
        return lead_time(self.status, self.approved_at, self.call.starts_at)

    def waiting_on_rep(self, now=None) -> bool:
        call = self.call
        return is_waiting_on_rep(self.status, call.status, call.starts_at, now or timezone.now())

    def waiting_on_reviewer(self, now=None) -> bool:
        call = self.call
        now = now or timezone.now()
        return is_waiting_on_reviewer(self.status, call.status, call.starts_at, now)

    def is_overdue(self, now=None) -> bool:
        return self.waiting_on_rep(now) or self.waiting_on_reviewer(now)

    def is_due_soon(self, now=None, *, within=timedelta(hours=24)) -> bool:
        now = now or timezone.now()
        return self.due is not None and now <= self.due <= now + within

    def in_review_queue(self, now=None) -> bool:
        call = self.call
        return is_in_review_queue(self.status, call.status, call.starts_at, now or timezone.now())

    @property
    def is_approved(self) -> bool:
        return self.status == BriefStatus.APPROVED

    @property
    def is_in_review(self) -> bool:
        return self.status == BriefStatus.SUBMITTED

    @cached_property
    def ordered_sections(self) -> list[BriefSection]:
        return sorted(self.sections.all(), key=lambda s: s.position)

    def completeness_counts(self) -> tuple[int, int]:
        """(complete, total) over required sections; uses annotations when present."""
        if hasattr(self, "required_total") and hasattr(self, "required_complete"):
            return self.required_complete, self.required_total
        required = [s for s in self.ordered_sections if s.required]
        return sum(1 for s in required if s.state == S.SectionState.COMPLETE), len(required)

    def completeness(self) -> float:
        """The share of required sections that are complete, from 0.0 to 1.0."""
        complete, total = self.completeness_counts()
        return complete / total if total else 0.0

    @property
    def completeness_percent(self) -> int:
        return percent(*self.completeness_counts())

    @property
    def last_edited_at(self):
        times = [s.updated_at for s in self.ordered_sections if s.updated_at]
        return max(times) if times else self.created_at


class BriefSection(models.Model):
    """One section of a brief. ``version`` guards against lost updates (see services)."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=30, choices=S.SectionKey.choices)
    position = models.PositiveSmallIntegerField()
    required = models.BooleanField(default=True)
    text = models.TextField(blank=True, help_text="Markdown, with claim marks.")
    html = models.TextField(blank=True, editable=False, help_text="Rendered and sanitised.")
    fields = models.JSONField(default=dict, blank=True, help_text="Structured fields.")
    claims = models.JSONField(default=list, blank=True, editable=False)
    # Footnote data of the citations this section's text may cite, keyed by citation id (a
    # copy of the brief's immutable Citation snapshots; ``null`` for a marker that is not this
    # brief's). Filled by the cite action and by saves, so an autosave needs no extra query.
    citations = models.JSONField(default=dict, blank=True, editable=False)
    focus = models.JSONField(default=dict, blank=True, editable=False)
    state = models.CharField(
        max_length=12, choices=S.SectionState.choices, default=S.SectionState.EMPTY
    )
    words = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    origin_note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The revision the current text belongs to, and when that revision started: autosaves by
    # the same author within a few minutes extend it (see services.save_section). A plain id,
    # not a foreign key, so a save can name the revision before it writes it.
    revision_id = models.UUIDField(null=True, blank=True, editable=False)
    revision_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        app_label = "callprep"
        ordering = ["brief", "position"]
        constraints = [
            models.UniqueConstraint(fields=["brief", "key"], name="brief_section_key_unique"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), S.MAX_SECTION_CHARS),
                name="brief_section_text_max_length",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="brief_section_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.brief})"

    @property
    def spec(self) -> S.SectionSpec:
        return S.spec_for(self.key)

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def is_structured(self) -> bool:
        return self.spec.kind != S.SectionKind.PROSE

    def evaluation(self) -> S.Evaluation:
        return S.evaluate(
            self.spec,
            self.text,
            self.fields,
            has_executive=self.brief.call.executive_id is not None,
        )

    def focus_reading(self) -> Focus:
        return Focus.from_dict(self.focus)

    def red_flags(self) -> list[str]:
        return S.red_flags(self.fields) if self.key == S.SectionKey.DEAL_CHECK else []

    def claim_counts(self) -> dict[str, int]:
        return claim_counts(self.claims)

    def plain_text(self) -> str:
        """Text and structured fields as one plain text, for diffs."""
        return section_plain_text(self.spec, self.text, self.fields)

    def get_edit_url(self) -> str:
        return reverse("briefs:section", args=[self.brief_id, self.key])

    def anchor(self) -> str:
        return f"section-{self.key}"


def section_plain_text(spec: S.SectionSpec, text: str, fields: dict | None) -> str:
    if spec.kind == S.SectionKind.PROSE:
        return text or ""
    structured = S.fields_as_text(spec, fields)
    return structured + (f"\n\n{spec.notes_label}:\n{text}" if text else "")


class RevisionKind(models.TextChoices):
    START = "start", "Started"
    CARRIED_FORWARD = "carried_forward", "Carried forward"
    EDIT = "edit", "Edited"
    MERGE = "merge", "Merged after a conflict"
    RESTORE = "restore", "Restored"


class SectionRevision(models.Model):
    """A saved state of a section. Autosaves by one author within a few minutes extend the
    same revision (its ``version`` moves forward), so history reads as editing sessions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    section = models.ForeignKey(BriefSection, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField(help_text="The section version this text became.")
    kind = models.CharField(max_length=20, choices=RevisionKind.choices, default=RevisionKind.EDIT)
    text = models.TextField(blank=True)
    fields = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    saved_at = models.DateTimeField()
    restored_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        app_label = "callprep"
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "version"], name="section_revision_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.section.title} v{self.version}"

    def plain_text(self) -> str:
        return section_plain_text(self.section.spec, self.text, self.fields)

    @property
    def is_current(self) -> bool:
        return self.version == self.section.version

    @property
    def size(self) -> int:
        return len(self.text) + S.fields_length(self.fields)


# The review models (audit trail, approvals, comments, notifications) live in their own module.
from callprep.review.models import *  # noqa: E402, F403

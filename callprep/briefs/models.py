"""Briefs, their sections and the revisions of each section.

Rules about one object live here (``brief.completeness()``, ``section.evaluation()``); read
queries live on querysets (``Brief.objects.visible_to(user)``). Changes go through
callprep/briefs/services.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Count, FloatField, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Length, NullIf, Round
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from callprep.briefs import sections as S
from callprep.briefs.focus import Focus
from callprep.briefs.rendering import claim_counts

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
]


def due_hours() -> int:
    """A brief is due this many hours before its call (setting BRIEF_DUE_HOURS, default 48)."""
    return int(getattr(settings, "BRIEF_DUE_HOURS", 48))


# See BriefQuerySet.in_review_queue.
QUEUE_DUE_SLACK = timedelta(days=7)


def due_at_for(starts_at):
    return starts_at - timedelta(hours=due_hours()) if starts_at else None


class BriefStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"


class BriefQuerySet(models.QuerySet):
    def visible_to(self, user) -> BriefQuerySet:
        """A brief follows its call: whoever may read the call may read its brief; and any
        executive may read the briefs they may review (calls with no executive named)."""
        from callprep.models import Call

        visible = Q(call__in=Call.objects.visible_to(user).values("pk"))
        if user.is_authenticated and user.is_active and user.is_executive:
            visible |= Q(call__executive__isnull=True)
        return self.filter(visible)

    def reviewable_by(self, user) -> BriefQuerySet:
        """Briefs the user may approve: as the executive joining the call, or as any
        executive when none is named; admins review all. Never a brief of their own call."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin_role:
            scope = self.all()
        elif user.is_executive:
            scope = self.filter(Q(call__executive=user) | Q(call__executive__isnull=True))
        else:
            return self.none()
        return scope.exclude(call__owner=user).exclude(created_by=user)

    def awaiting_review(self) -> BriefQuerySet:
        return self.filter(status=BriefStatus.SUBMITTED)

    def in_review_queue(self, now=None) -> BriefQuerySet:
        """Submitted briefs whose call has not started yet: approving after the call is no
        preparation (such briefs stay "submitted" and count as unprepared on the dashboard).

        The bound on ``due_at`` (kept in step with the call's start by a trigger, migration
        0009) lets the status/due index find the few open briefs among years of history; the
        week of slack keeps a brief whose due time was set under a longer BRIEF_DUE_HOURS.
        """
        now = now or timezone.now()
        earliest_due = now - timedelta(hours=due_hours()) - QUEUE_DUE_SLACK
        return self.awaiting_review().filter(call__starts_at__gte=now, due_at__gte=earliest_due)

    def editable_by(self, user) -> BriefQuerySet:
        from callprep.models import Call

        return self.filter(call__in=Call.objects.editable_by(user).values("pk"))

    def with_completeness(self) -> BriefQuerySet:
        """Annotate ``required_total`` and ``required_complete`` (one query, no N+1)."""
        return self.annotate(
            required_total=Count("sections", filter=Q(sections__required=True)),
            required_complete=Count(
                "sections",
                filter=Q(sections__required=True, sections__state=S.SectionState.COMPLETE),
            ),
        )

    def latest_for_account(self, account, *, exclude_call=None) -> Brief | None:
        qs = self.filter(account=account)
        if exclude_call is not None:
            qs = qs.exclude(call=exclude_call)
        return qs.order_by("-call__starts_at", "-created_at", "-pk").first()


def _section_count(*, complete: bool) -> Subquery:
    condition = Q(brief__call=OuterRef("pk"), required=True)
    if complete:
        condition &= Q(state=S.SectionState.COMPLETE)
    counts = (
        BriefSection.objects.filter(condition)
        .order_by()
        .values("brief__call")
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
        brief_required_total=_section_count(complete=False),
        brief_required_complete=_section_count(complete=True),
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
    # The customer, kept on the brief so an account keeps its briefs over time.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="briefs")
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
    # The workflow's facts, for the review queue and (in SQL) the dashboard. Set by
    # callprep/workflow.py; ``due_at`` follows the call's start (BRIEF_DUE_HOURS before it).
    due_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_late = models.BooleanField(default=False)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_late = models.BooleanField(default=False)
    # Completeness kept on the brief for the prep dashboard, which reads it without touching the
    # sections: the required sections and how many of them are complete. Set by start_brief
    # (services.py); a database trigger on the sections' state keeps it (migration 0008).
    sections_required = models.PositiveSmallIntegerField(default=0, editable=False)
    sections_complete = models.PositiveSmallIntegerField(default=0, editable=False)

    objects = BriefQuerySet.as_manager()

    class Meta:
        app_label = "callprep"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["account", "created_at"], name="brief_account_idx"),
            models.Index(fields=["status", "due_at"], name="brief_status_due_idx"),
            # The dashboard reads only these columns of a call's brief (index-only when chosen).
            models.Index(
                fields=["call"],
                include=["status", "approved_at", "sections_required", "sections_complete"],
                name="brief_call_dashboard_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Brief for {self.call.title}"

    def get_absolute_url(self) -> str:
        return reverse("briefs:detail", args=[self.pk])

    def get_edit_url(self) -> str:
        return reverse("briefs:edit", args=[self.pk])

    def is_editable_by(self, user) -> bool:
        return self.call.is_editable_by(user)

    def is_reviewable_by(self, user) -> bool:
        """The executive joining the call (any executive when none is named) or an admin;
        never the rep whose call it is or who started the brief."""
        if not user.is_authenticated or not user.is_active:
            return False
        if user.pk in (self.call.owner_id, self.created_by_id):
            return False
        if user.is_admin_role:
            return True
        return user.is_executive and self.call.executive_id in (None, user.pk)

    # --- Due rule -------------------------------------------------------------------------

    @property
    def due(self):
        """When the brief is due: BRIEF_DUE_HOURS before the call (follows the call's time)."""
        return due_at_for(self.call.starts_at)

    def is_overdue(self, now=None) -> bool:
        """Past due and not yet submitted or approved."""
        now = now or timezone.now()
        return self.status in (BriefStatus.DRAFT, BriefStatus.CHANGES_REQUESTED) and (
            self.due is not None and now > self.due
        )

    def is_due_soon(self, now=None, *, within=timedelta(hours=24)) -> bool:
        now = now or timezone.now()
        return self.due is not None and now <= self.due <= now + within

    def review_is_overdue(self, now=None) -> bool:
        """Submitted but not approved, and the due time has passed."""
        now = now or timezone.now()
        return self.status == BriefStatus.SUBMITTED and self.due is not None and now > self.due

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

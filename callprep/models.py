from __future__ import annotations

import hashlib
import hmac
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts import visibility
from accounts.models import WorkerImport
from accounts.timezones import (  # noqa: F401 (migration 0002 names the validator here)
    available_time_zones,
    time_zone_choices,
    validate_time_zone,
)


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran a task; /healthz reports it."""

    name = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    beat_at = models.DateTimeField(default=timezone.now)
    beats = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


def new_ical_uid() -> str:
    return f"{uuid.uuid4()}@salesprep"


class CallKind(models.TextChoices):
    DISCOVERY = "discovery", "Discovery"
    EXECUTIVE_VISIT = "executive_visit", "Executive visit"
    BUSINESS_REVIEW = "business_review", "Business review"
    NEGOTIATION = "negotiation", "Negotiation"
    OTHER = "other", "Other"


class CallStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


def is_upcoming(starts_at, now) -> bool:
    """**Upcoming**: the call has not started yet (by its start, everywhere)."""
    return starts_at >= now


def upcoming_q(now, starts_at: str = "starts_at") -> Q:
    return Q(**{f"{starts_at}__gte": now})


class CallQuerySet(models.QuerySet):
    def visible_to(self, user) -> CallQuerySet:
        """Calls the user may read (accounts/visibility.py)."""
        return self.filter(visibility.calls_q(user))

    def editable_by(self, user) -> CallQuerySet:
        """Calls the user may change: their own, and those on accounts they own; admins: all."""
        return self.filter(visibility.editable_calls_q(user))

    def attended_by(self, user) -> CallQuerySet:
        return self.filter(visibility.attended_calls_q(user))

    def joined_by(self, user) -> CallQuerySet:
        """Calls the user joins as the executive (``Call.executive``): their visits."""
        return self.filter(executive=user) if user.is_authenticated else self.none()

    def upcoming(self, now=None) -> CallQuerySet:
        return self.filter(upcoming_q(now or timezone.now()))

    def waiting_on_rep(self, now=None) -> CallQuerySet:
        from callprep.briefs.models import FROM_CALL, waiting_on_rep_q

        return self.filter(waiting_on_rep_q(now or timezone.now(), FROM_CALL))


# The years a call may fall in, however it is entered (the call form, a calendar import): far
# dates are typing mistakes, and dates near the ends of Python's range overflow in arithmetic.
CALL_YEARS = (1900, 2100)


def call_year_problem(value) -> str:
    """Why ``value`` (a date or date-time) cannot be a call's, or "" when it can."""
    first, last = CALL_YEARS
    if first <= value.year <= last:
        return ""
    return f"The year {value.year} is outside the years a call may fall in ({first} to {last})."


class Call(models.Model):
    """A customer call we prepare for, with the meeting's up-front contract."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="calls")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=CallKind.choices, default=CallKind.DISCOVERY)
    status = models.CharField(
        max_length=10, choices=CallStatus.choices, default=CallStatus.SCHEDULED
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    all_day = models.BooleanField(default=False)
    location = models.CharField(max_length=300, blank=True)
    meeting_url = models.URLField("meeting link", max_length=500, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_calls",
        help_text="The rep who runs the call and writes its brief.",
    )
    executive = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="joined_calls",
        help_text="The executive joining the call, who reviews the brief.",
    )
    contacts = models.ManyToManyField(
        "accounts.Contact", related_name="calls", blank=True, verbose_name="customer attendees"
    )
    purpose = models.TextField(blank=True, help_text="Why we are meeting, agreed up front.")
    agenda = models.TextField(blank=True)
    agreed_outcome = models.TextField(blank=True, help_text="What both sides expect at the end.")
    ical_uid = models.CharField(max_length=255, default=new_ical_uid, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sequence = models.PositiveIntegerField(default=0, editable=False)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ical_uid"], name="call_ical_uid_unique"),
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="call_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "starts_at"], name="call_owner_start_idx"),
            # The prep dashboard: every call in a period (the whole organisation's view).
            models.Index(fields=["starts_at"], name="call_start_idx"),
            # The prep dashboard of a team: its accounts' calls in a period.
            models.Index(fields=["account", "starts_at"], name="call_account_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.account}"

    def get_absolute_url(self) -> str:
        return reverse("callprep:call_detail", args=[self.pk])

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            raise ValidationError({"ends_at": "The call must end after it starts."})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def local_start(self):
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self):
        return self.ends_at.astimezone(self.zone)

    @property
    def is_upcoming(self) -> bool:
        return is_upcoming(self.starts_at, timezone.now())

    @property
    def due(self):
        """When the call's brief is due (``briefs.models.due_at_for``)."""
        from callprep.briefs.models import due_at_for

        return due_at_for(self.starts_at)

    def _brief_status(self) -> str:
        try:
            return self.brief.status
        except ObjectDoesNotExist:
            return ""

    def waiting_on_rep(self, now=None) -> bool:
        from callprep.briefs.models import is_waiting_on_rep

        now = now or timezone.now()
        return is_waiting_on_rep(self._brief_status(), self.status, self.starts_at, now)

    def waiting_on_reviewer(self, now=None) -> bool:
        from callprep.briefs.models import is_waiting_on_reviewer

        now = now or timezone.now()
        return is_waiting_on_reviewer(self._brief_status(), self.status, self.starts_at, now)

    def is_overdue(self, now=None) -> bool:
        return self.waiting_on_rep(now) or self.waiting_on_reviewer(now)

    @property
    def brief_status(self) -> str:
        """The status of the call's brief, in words."""
        try:
            return self.brief.get_status_display()
        except ObjectDoesNotExist:
            return "Not started"

    def is_editable_by(self, user) -> bool:
        return visibility.may_edit_call(self, user)


class CalendarFeed(models.Model):
    """A user's personal calendar feed. The secret lives in the URL; we keep only its hash."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    key = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, self.hash_secret(secret))


class CalendarImport(WorkerImport):
    """An uploaded .ics file: its events, the worker's import of them, and then the events
    that matched no account while they wait to be assigned.

    The upload parses the file and keeps its events in ``parsed`` (callprep/calendar.py,
    event_to_json) with the dry run of their import in ``plan`` (calendar.plan_calendar: one
    entry per event), shown as the preview; on "Import", with the attendees the uploader chose
    to make stakeholders (``add_people``: ``[account id, e-mail, name]``), the worker adds those
    and imports the events ICS_IMPORT_BATCH_EVENTS at a time, one transaction per batch,
    recording how far it got (``events_done``), the calls each batch created or updated
    (``imported``: ``[action, call id]`` pairs), the events it skipped (``skipped``:
    ``[title, reason]``) and those that matched no account (``events``, each with its position
    ``n``). An event leaves ``events`` once the uploader has assigned it or left it out.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    content = models.TextField()
    parsed = models.JSONField(default=list, blank=True)
    plan = models.JSONField(default=list, blank=True)
    add_people = models.JSONField(default=list, blank=True)
    event_count = models.PositiveIntegerField(default=0)
    events_done = models.PositiveIntegerField(default=0)
    imported = models.JSONField(default=list, blank=True)
    skipped = models.JSONField(default=list, blank=True)
    events = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename

    @property
    def percent_done(self) -> int:
        return 100 * self.events_done // self.event_count if self.event_count else 0

    def count(self, action: str) -> int:
        return sum(1 for done, _ in self.imported if done == action)

    def planned(self, action: str) -> int:
        """How many events the preview says would be created, updated, assigned or skipped."""
        return sum(1 for step in self.plan if step["action"] == action)

    @property
    def created_count(self) -> int:
        return self.count(CREATED)

    @property
    def updated_count(self) -> int:
        return self.count(UPDATED)


# What an imported event did to its call (CalendarImport.imported).
CREATED, UPDATED = "created", "updated"


# The brief models live in their own module (callprep/briefs/models.py).
from callprep.briefs.models import *  # noqa: E402, F403
from callprep.dashboard.models import *  # noqa: E402, F403
from callprep.evidence.models import *  # noqa: E402, F403

"""Review models: the audit trail of a brief, approvals (with the sniff test and a frozen
snapshot), section comments, "briefed" marks, notifications, e-mail mutes and sent reminders.

Imported by callprep/briefs/models.py so Django registers them under the ``callprep`` app.
Changes go through callprep/workflow.py (transitions) and callprep/review/notify.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from callprep.briefs.sections import SectionKey

__all__ = [
    "SNIFF_TEST",
    "Action",
    "Approval",
    "BriefTransition",
    "EmailMute",
    "ExecutiveRead",
    "Notification",
    "NotificationKind",
    "SectionComment",
    "SentReminder",
    "SniffAnswer",
    "mark_read_on_act",
]


class Action(models.TextChoices):
    SUBMIT = "submit", "Submitted for review"
    WITHDRAW = "withdraw", "Withdrawn from review"
    REQUEST_CHANGES = "request_changes", "Changes requested"
    APPROVE = "approve", "Approved"
    APPROVE_WITH_CONCERNS = "approve_with_concerns", "Approved with concerns"
    REOPEN = "reopen", "Sent back to review by an edit after approval"
    MARK_BRIEFED = "mark_briefed", "Marked as briefed"


class BriefTransition(models.Model):
    """One audit entry: who did what to a brief, when, from which status to which, and why."""

    brief = models.ForeignKey(
        "callprep.Brief", on_delete=models.CASCADE, related_name="transitions"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(blank=True)

    class Meta:
        app_label = "callprep"
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["brief", "at"], name="brief_transition_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.by} at {self.at:%Y-%m-%d %H:%M}"


class SniffAnswer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNSURE = "unsure", "Unsure"


@dataclass(frozen=True)
class SniffQuestion:
    key: str
    question: str
    # The deal-check field the rep's answer comes from, shown next to the question.
    field: str


# The executive's sniff test, drawn from the deal reality check and its red flags.
SNIFF_TEST: tuple[SniffQuestion, ...] = (
    SniffQuestion(
        "economic_buyer_met", "Has someone on our side met the economic buyer?", "economic_buyer"
    ),
    SniffQuestion(
        "compelling_event", "Is there a compelling event with a date?", "compelling_event"
    ),
    SniffQuestion(
        "pain_confirmed", "Did the customer confirm the pain in their own words?", "pain"
    ),
    SniffQuestion(
        "paper_process",
        "Do we know the paper process (legal, security, procurement)?",
        "paper_process",
    ),
    SniffQuestion(
        "executive_role", "Is my role on the call clear (what to say and ask)?", "exec_say"
    ),
)


class Approval(models.Model):
    """An approval: the sniff-test answers and a snapshot of every section as approved."""

    brief = models.ForeignKey("callprep.Brief", on_delete=models.CASCADE, related_name="approvals")
    number = models.PositiveIntegerField(help_text="1 for the first approval of the brief, …")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    # {section key: {"title", "version", "text", "fields", "plain"}}
    snapshot = models.JSONField(default=dict)
    # {question key: {"answer": "yes"|"no"|"unsure", "note": "…"}}
    answers = models.JSONField(default=dict)
    with_concerns = models.BooleanField(default=False)
    concerns = models.TextField(blank=True)
    superseded_at = models.DateTimeField(
        null=True, blank=True, help_text="When an edit sent the brief back to review."
    )

    class Meta:
        app_label = "callprep"
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["brief", "number"], name="approval_number_unique")
        ]

    def __str__(self) -> str:
        return f"Approval {self.number} of {self.brief_id}"

    def answer_rows(self) -> list[dict]:
        rows = []
        for question in SNIFF_TEST:
            given = self.answers.get(question.key) or {}
            answer = given.get("answer", "")
            rows.append(
                {
                    "key": question.key,
                    "question": question.question,
                    "answer": answer,
                    "answer_label": SniffAnswer(answer).label if answer else "—",
                    "note": given.get("note", ""),
                }
            )
        return rows

    def concern_lines(self) -> list[str]:
        """What worried the reviewer: non-yes answers with their notes, then the free text."""
        lines = []
        for row in self.answer_rows():
            if row["answer"] in (SniffAnswer.NO, SniffAnswer.UNSURE):
                line = f"{row['question']} — {row['answer_label']}"
                lines.append(f"{line}: {row['note']}" if row["note"] else line)
        if self.concerns.strip():
            lines.append(self.concerns.strip())
        return lines

    def section_version(self, key: str) -> int | None:
        entry = self.snapshot.get(key)
        return entry.get("version") if entry else None


class SectionComment(models.Model):
    """A comment anchored to one section; replies point at the thread's first comment."""

    brief = models.ForeignKey("callprep.Brief", on_delete=models.CASCADE, related_name="comments")
    section_key = models.CharField(max_length=30, choices=SectionKey.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(max_length=5_000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "callprep"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["brief", "section_key"], name="comment_section_idx")]

    def __str__(self) -> str:
        return f"{self.author} on {self.get_section_key_display()}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    def anchor(self) -> str:
        return f"comment-{self.pk}"


class ExecutiveRead(models.Model):
    """When an executive marked a brief as read ("briefed") before the call."""

    brief = models.ForeignKey("callprep.Brief", on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)
    approval = models.ForeignKey(
        Approval, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "callprep"
        constraints = [
            models.UniqueConstraint(fields=["brief", "user"], name="one_read_per_brief_and_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.brief_id} at {self.read_at:%Y-%m-%d %H:%M}"


class NotificationKind(models.TextChoices):
    SUBMITTED = "submitted", "A brief was submitted for your review"
    CHANGES_REQUESTED = "changes_requested", "Changes were requested on your brief"
    APPROVED = "approved", "Your brief was approved"
    REOPENED = "reopened", "An approved brief was edited and needs review again"
    COMMENT = "comment", "A comment on a brief"
    REMINDER_NO_BRIEF = "reminder_no_brief", "Reminder: a call in 5 days has no brief"
    REMINDER_NOT_SUBMITTED = "reminder_not_submitted", "Reminder: a brief is due"
    REMINDER_NOT_BRIEFED = "reminder_not_briefed", "Reminder: read the brief before the call"
    NUDGE = "nudge", "Nudge from your manager"


def about_q(brief=None, call=None) -> Q:
    """Notifications about a brief or its call (a reminder before the brief existed names
    only the call)."""
    q = Q(pk__in=[])
    if brief is not None:
        q |= Q(brief=brief) | Q(call_id=brief.call_id)
    if call is not None:
        q |= Q(call=call)
    return q


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> NotificationQuerySet:
        return self.filter(recipient=user) if user.is_authenticated else self.none()

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def about(self, brief=None, call=None) -> NotificationQuerySet:
        return self.filter(about_q(brief, call))


class Notification(models.Model):
    """An in-app notification; the e-mail copy is sent after commit unless the kind is muted."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    brief = models.ForeignKey(
        "callprep.Brief", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    call = models.ForeignKey(
        "callprep.Call", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # What happened, as a key naming the object and the event ("transition:41", "comment:7",
    # "reminder:call:12"): one notification per event per person and kind (the constraint).
    event = models.CharField(max_length=120, blank=True, default="")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        app_label = "callprep"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "event"],
                condition=~Q(event=""),
                name="one_notification_per_event",
            )
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


def mark_read_on_act(user, *, brief=None, call=None) -> int:
    """**Read on act**: when a person acts on a brief (approves it, asks for changes, submits,
    edits, opens it to edit, comments, marks it briefed), every unread notification of theirs
    about that brief (or its call) is read: they have seen it. One UPDATE; how many were."""
    if user is None or not user.is_authenticated:
        return 0
    return (
        Notification.objects.for_user(user)
        .unread()
        .about(brief, call)
        .update(read_at=timezone.now())
    )


class EmailMute(models.Model):
    """A user does not want e-mail of one kind (the in-app notification still appears)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_mutes"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)

    class Meta:
        app_label = "callprep"
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_mute_per_kind")]

    def __str__(self) -> str:
        return f"{self.user} mutes {self.kind}"


class SentReminder(models.Model):
    """A reminder that went out; the unique constraint makes a second run send nothing."""

    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    call = models.ForeignKey("callprep.Call", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "callprep"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "call", "user"], name="one_reminder_per_kind_call_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for call {self.call_id} to {self.user_id}"

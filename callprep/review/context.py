"""What review-aware pages share: the navigation's counts, the review facts of a brief and
its comment threads.

``review_nav`` is a context processor (in TEMPLATES' context processors): base.html shows
``review_count`` next to "Review queue" and ``unread_notifications`` next to the bell link.
``review_facts`` and ``threads_for`` are used by the review pages and the brief's editor and
read view alike, so no view module imports another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.visibility import may_review_anything
from callprep import workflow
from callprep.briefs.models import Brief, BriefStatus
from callprep.review.models import ExecutiveRead, Notification, SectionComment


def review_count(user) -> int:
    if not may_review_anything(user):
        return 0
    return Brief.objects.reviewable_by(user).in_review_queue().count()


def unread_count(user) -> int:
    return Notification.objects.for_user(user).unread().count() if user.is_authenticated else 0


def review_nav(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that do not show the counts run no query.
    return {
        "review_count": SimpleLazyObject(lambda: review_count(user)),
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }


NOTIFICATION_LIMIT = 100


@dataclass
class NotificationGroup:
    """The notifications about one call and its brief (``call`` None: about nothing else)."""

    call: object | None
    items: list[Notification] = field(default_factory=list)

    @property
    def unread(self) -> int:
        return sum(1 for item in self.items if item.is_unread)


def notification_groups(user, limit: int = NOTIFICATION_LIMIT) -> list[NotificationGroup]:
    """The user's latest notifications grouped by the call (and brief) they are about; the
    group with the newest notification first, each group newest first."""
    items = (
        Notification.objects.for_user(user)
        .select_related("actor", "call__account")
        .order_by("-created_at", "-pk")[:limit]
    )
    groups: dict[int | None, NotificationGroup] = {}
    for item in items:
        key = item.call_id
        if key not in groups:
            groups[key] = NotificationGroup(call=item.call)
        groups[key].items.append(item)
    return list(groups.values())


def threads_for(brief: Brief) -> dict[str, list[SectionComment]]:
    """Comment threads per section key: first comments with their replies, oldest first."""
    roots = (
        SectionComment.objects.filter(brief=brief, parent__isnull=True)
        .select_related("author", "resolved_by")
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=SectionComment.objects.select_related("author").order_by("created_at"),
            )
        )
        .order_by("created_at", "pk")
    )
    threads: dict[str, list[SectionComment]] = {}
    for root in roots:
        threads.setdefault(root.section_key, []).append(root)
    return threads


def review_facts(brief: Brief, user) -> dict:
    """What every review-aware page shows: the approval, changes since it, the user's rights."""
    approval = workflow.latest_approval(brief)
    read = ExecutiveRead.objects.filter(brief=brief, user=user).first()
    return {
        "approval": approval,
        "current_approval": approval if brief.status == BriefStatus.APPROVED else None,
        "changed_since_approval": bool(approval and approval.superseded_at),
        "read": read,
        "can_edit": brief.is_editable_by(user),
        "can_review": brief.may_review(user),
        "can_submit": brief.is_editable_by(user)
        and brief.status in (BriefStatus.DRAFT, BriefStatus.CHANGES_REQUESTED),
        "can_withdraw": brief.is_editable_by(user) and brief.status == BriefStatus.SUBMITTED,
        "can_mark_briefed": brief.may_mark_briefed(user),
        "can_comment": brief.may_comment(user),
        "now": timezone.now(),
    }

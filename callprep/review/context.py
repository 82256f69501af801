"""Counts for the navigation: briefs waiting for the user's review, unread notifications.

Add ``"callprep.review.context.review_nav"`` to TEMPLATES' context processors; base.html shows
``review_count`` next to "Review queue" and ``unread_notifications`` next to the bell link.
"""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from callprep.briefs.models import Brief
from callprep.review.models import Notification


def review_count(user) -> int:
    if not (user.is_authenticated and (user.is_executive or user.is_admin_role)):
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

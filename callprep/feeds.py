"""Personal calendar feeds: a secret URL per user, revocable, compared in constant time."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from callprep.models import CalendarFeed, Call

# Compared against when the key is unknown, so a miss costs the same as a wrong secret.
_DUMMY = CalendarFeed(secret_hash=CalendarFeed.hash_secret("no-such-feed"))


def issue_feed(user) -> tuple[CalendarFeed, str]:
    """Create the user's feed, or replace its address; returns the feed and its secret."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user).delete()
        feed = CalendarFeed.objects.create(
            user=user, key=secrets.token_hex(8), secret_hash=CalendarFeed.hash_secret(secret)
        )
    return feed, secret


def revoke_feed(user) -> bool:
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)


def feed_for(key: str, secret: str) -> CalendarFeed | None:
    feed = CalendarFeed.objects.select_related("user").filter(key=key).first()
    ok = (feed or _DUMMY).matches(secret)
    if feed is None or not ok or not feed.user.is_active:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed


def feed_calls(user) -> QuerySet[Call]:
    """The user's upcoming calls (cancelled ones too, so calendars drop them)."""
    return (
        Call.objects.visible_to(user)
        .attended_by(user)
        .upcoming()
        .select_related("account", "owner", "executive")
        .prefetch_related("contacts")
        .order_by("starts_at")
    )

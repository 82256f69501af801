"""Login throttling: after N failures for a username from one address, a cool-off lock."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import LoginThrottle


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:150]


def lock_for(username: str, ip_address: str) -> LoginThrottle | None:
    """The active lock for this key, if any."""
    throttle = LoginThrottle.objects.filter(
        username=normalise_username(username), ip_address=ip_address
    ).first()
    if throttle and throttle.is_locked():
        return throttle
    return None


def record_failure(username: str, ip_address: str) -> LoginThrottle:
    now = timezone.now()
    key = {"username": normalise_username(username), "ip_address": ip_address}
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(**key)
        if throttle.locked_until and throttle.locked_until <= now:
            # The cool-off is over: start counting again.
            throttle.failures = 0
            throttle.locked_until = None
        if now - throttle.last_failure_at > settings.LOGIN_LOCKOUT:
            throttle.failures = 0
        throttle.failures = F("failures") + 1
        throttle.last_failure_at = now
        throttle.save()
        throttle.refresh_from_db()
        if throttle.failures >= settings.LOGIN_FAILURE_LIMIT:
            throttle.locked_until = now + settings.LOGIN_LOCKOUT
            throttle.save(update_fields=["locked_until"])
    return throttle


def record_success(username: str, ip_address: str) -> None:
    LoginThrottle.objects.filter(
        username=normalise_username(username), ip_address=ip_address
    ).delete()


def prune(older_than=None) -> int:
    cutoff = timezone.now() - (older_than or settings.LOGIN_LOCKOUT * 4)
    deleted, _ = LoginThrottle.objects.filter(last_failure_at__lt=cutoff).delete()
    return deleted

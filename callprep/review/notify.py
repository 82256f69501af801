"""Notifications: in-app rows written with the change that caused them, e-mail after commit.

``notify`` is called inside a workflow transaction; it creates one Notification per recipient
and event (a second call for the same event creates nothing) and, once the transaction
commits, enqueues one e-mail task per new notification. The task loads
the notification by id and calls ``send_email``, which claims it first (``emailed_at``), so a
duplicate delivery sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.links import absolute_reverse, absolute_url
from accounts.mail import header_text, send
from accounts.models import User
from accounts.roles import Role
from callprep.review.models import EmailMute, Notification, NotificationKind

log = logging.getLogger(__name__)


def reviewers_of(brief) -> list:
    """Whom a brief is sent to for review: the executive joining the call; for a call with no
    executive, the managers of the account's team; failing those, the admins. Only people
    ``Brief.may_review`` lets review it (the rule lives in accounts/visibility.py)."""
    call = brief.call
    if call.executive_id:
        candidates = [call.executive]
    else:
        team = call.account.team
        candidates = list(team.managers.filter(is_active=True).order_by("pk")) if team else []
    reviewers = [user for user in candidates if brief.may_review(user)]
    if reviewers or call.executive_id:
        return reviewers
    admins = (
        User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN), is_active=True)
        .distinct()
        .order_by("pk")
    )
    return [user for user in admins if brief.may_review(user)]


def writers_of(brief) -> list:
    """The rep who owns the call (and who started the brief, if someone else)."""
    people = {brief.call.owner_id: brief.call.owner}
    if brief.created_by_id and brief.created_by_id not in people and brief.created_by:
        people[brief.created_by_id] = brief.created_by
    return [p for p in people.values() if p.is_active]


def notify(
    kind: str,
    recipients: Iterable,
    *,
    event: str,
    subject: str,
    body: str,
    url: str,
    actor=None,
    brief=None,
    call=None,
) -> list[Notification]:
    """Create in-app notifications (not for the actor) and e-mail them after commit.

    ``event`` names what happened ("transition:41", "comment:7"): a person gets one
    notification of a kind per event, however often this runs for it (a retried task, a
    repeated call) — the constraint ``one_notification_per_event`` holds it, ``get_or_create``
    reads the one that exists. Returns the notifications created now (only those are e-mailed).
    """
    if not event:
        raise ValueError("A notification needs the key of the event it is about.")
    seen: set[int] = set()
    created = []
    for user in recipients:
        if user is None or user.pk in seen or (actor is not None and user.pk == actor.pk):
            continue
        seen.add(user.pk)
        notification, new = Notification.objects.get_or_create(
            recipient=user,
            kind=kind,
            event=event[:120],
            defaults={
                "subject": header_text(subject, 200),
                "body": body,
                "url": url,
                "actor": actor,
                "brief": brief,
                "call": call if call is not None else (brief.call if brief is not None else None),
            },
        )
        if new:
            created.append(notification)
    ids = [n.pk for n in created]
    if ids:
        transaction.on_commit(lambda: _enqueue_emails(ids))
    return created


def _enqueue_emails(ids: list[int]) -> None:
    from callprep.review.tasks import send_notification_email

    for pk in ids:
        try:
            send_notification_email.delay(pk)
        except Exception:  # the broker is down: the in-app notification is still there
            log.exception("could not enqueue the e-mail for notification %s", pk)


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read (one UPDATE); how many were."""
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())


def mark_read(notification: Notification) -> None:
    """Mark one notification read, once (one conditional UPDATE)."""
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def set_email_mutes(user: User, *, emailed: set[str]) -> None:
    """E-mail the user the notification kinds in ``emailed``; mute every other kind."""
    muted = [k for k in NotificationKind.values if k not in emailed]
    with transaction.atomic():
        EmailMute.objects.filter(user=user).exclude(kind__in=muted).delete()
        EmailMute.objects.bulk_create(
            [EmailMute(user=user, kind=k) for k in muted], ignore_conflicts=True
        )


def is_muted(user, kind: str) -> bool:
    return EmailMute.objects.filter(user=user, kind=kind).exists()


def send_email(notification_id: int) -> bool:
    """Send the e-mail copy of a notification once; False when muted, sent or impossible."""
    notification = (
        Notification.objects.select_related("recipient", "brief__call__account")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return False
    recipient = notification.recipient
    if not recipient.email or not recipient.is_active or is_muted(recipient, notification.kind):
        return False
    claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False  # sent already (a duplicate delivery of the task)
    # A stored url is a path of this site; anything else is not linked.
    link = absolute_url(notification.url) if notification.url.startswith("/") else ""
    context = {
        "notification": notification,
        "recipient": recipient,
        "link": link,
        "settings_link": absolute_reverse("briefs:notification_settings"),
        "kind_label": notification.get_kind_display(),
    }
    try:
        send(
            subject=f"[SalesPrep] {notification.subject}",
            to=[recipient.email],
            text=render_to_string("review/email/notification.txt", context),
            html=render_to_string("review/email/notification.html", context),
        )
    except Exception:
        # Give the claim back so a retry can send it.
        Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
        raise
    return True


def kind_label(kind: str) -> str:
    return NotificationKind(kind).label

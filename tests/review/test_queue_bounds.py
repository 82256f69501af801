"""The review queue holds submitted briefs of calls still ahead and not cancelled, and a brief's
due time follows its call when the call moves: it is computed from the call's current start
(``due_at_for``), never stored, so no database trigger keeps a copy in step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from callprep.briefs.models import Brief, due_at_for
from callprep.models import Call, CallStatus
from callprep.review.context import review_count

pytestmark = pytest.mark.django_db


def test_a_submitted_brief_leaves_the_queue_once_its_call_has_started(client, submitted, victor):
    client.force_login(victor)
    assert review_count(victor) == 1
    assert submitted.call.title in client.get(reverse("callprep:review_queue")).text

    started = timezone.now() - timedelta(minutes=5)
    Call.objects.filter(pk=submitted.call_id).update(
        starts_at=started, ends_at=started + timedelta(hours=1)
    )

    assert review_count(victor) == 0
    page = client.get(reverse("callprep:review_queue")).text
    assert submitted.call.title not in page
    # Still submitted (the dashboard counts it as not prepared), just no longer to review.
    assert Brief.objects.get(pk=submitted.pk).status == "submitted"


def test_moving_a_call_moves_its_brief_s_due_time(submitted):
    def due() -> object:
        return Brief.objects.select_related("call").get(pk=submitted.pk).due

    call = Call.objects.get(pk=submitted.call_id)
    assert due() == call.starts_at - timedelta(hours=48)

    later = call.starts_at + timedelta(days=9, minutes=30)
    call.starts_at, call.ends_at = later, later + timedelta(hours=1)
    call.save()  # the ORM's save, as the call form does
    assert due() == due_at_for(later) == later - timedelta(hours=48)

    earlier = later - timedelta(days=20)
    # A bulk update: no signal, no trigger, and still the due time follows.
    Call.objects.filter(pk=call.pk).update(starts_at=earlier, ends_at=earlier + timedelta(hours=1))
    assert due() == earlier - timedelta(hours=48)


def test_a_changed_due_setting_moves_every_due_time_at_once(submitted, settings):
    call = Call.objects.get(pk=submitted.call_id)
    settings.BRIEF_DUE_HOURS = 24
    assert Brief.objects.select_related("call").get(pk=submitted.pk).due == (
        call.starts_at - timedelta(hours=24)
    )


def test_a_cancelled_call_leaves_the_queue_and_its_count(client, submitted, victor):
    client.force_login(victor)
    assert review_count(victor) == 1
    Call.objects.filter(pk=submitted.call_id).update(status=CallStatus.CANCELLED)

    assert review_count(victor) == 0
    assert submitted.call.title not in client.get(reverse("callprep:review_queue")).text
    brief = Brief.objects.select_related("call").get(pk=submitted.pk)
    assert not brief.in_review_queue() and not brief.is_overdue()


def test_a_call_moved_later_stays_in_the_queue(client, submitted, victor):
    """With a stale due time, a call moved from yesterday to next week would be missed."""
    Call.objects.filter(pk=submitted.call_id).update(
        starts_at=timezone.now() - timedelta(days=20), ends_at=timezone.now() - timedelta(days=20)
    )
    assert review_count(victor) == 0
    ahead = timezone.now() + timedelta(days=6)
    Call.objects.filter(pk=submitted.call_id).update(
        starts_at=ahead, ends_at=ahead + timedelta(hours=1)
    )
    assert review_count(victor) == 1


def test_the_database_holds_no_trigger():
    """No rule lives in SQL: the triggers of migrations 0008-0010 are dropped (0012)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert cursor.fetchall() == []

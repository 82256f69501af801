"""The review queue holds submitted briefs of calls still ahead, and a brief's due time follows
its call when the call moves (a database trigger, migration 0009), on PostgreSQL and SQLite."""

from __future__ import annotations

import importlib
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callprep.briefs.models import Brief, due_at_for
from callprep.models import Call
from callprep.review.context import review_count

pytestmark = pytest.mark.django_db

TRIGGER = importlib.import_module("callprep.migrations.0009_brief_due_follows_call")


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
    call = Call.objects.get(pk=submitted.call_id)
    assert Brief.objects.get(pk=submitted.pk).due_at == due_at_for(call.starts_at)

    later = call.starts_at + timedelta(days=9, minutes=30)
    call.starts_at, call.ends_at = later, later + timedelta(hours=1)
    call.save()  # the ORM's save, as the call form does
    assert Brief.objects.get(pk=submitted.pk).due_at == due_at_for(later)

    earlier = later - timedelta(days=20)
    Call.objects.filter(pk=call.pk).update(starts_at=earlier, ends_at=earlier + timedelta(hours=1))
    assert Brief.objects.get(pk=submitted.pk).due_at == due_at_for(earlier)


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


def test_the_sqlite_trigger_shifts_the_due_time_exactly():
    """The embedded default runs on SQLite: the same trigger, checked on SQLite's own text
    datetimes (as Django stores them)."""
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE callprep_call (id INTEGER PRIMARY KEY, starts_at TEXT NOT NULL);"
        "CREATE TABLE callprep_brief (id INTEGER PRIMARY KEY, call_id INTEGER, due_at TEXT);"
    )
    db.executescript(TRIGGER.SQLITE_TRIGGER)
    db.execute("INSERT INTO callprep_call VALUES (1, '2026-12-03 15:00:00')")
    db.execute("INSERT INTO callprep_call VALUES (2, '2026-12-03 15:00:00')")
    db.execute("INSERT INTO callprep_brief VALUES (1, 1, '2026-12-01 15:00:00.250000')")
    db.execute("INSERT INTO callprep_brief VALUES (2, 2, NULL)")

    db.execute("UPDATE callprep_call SET starts_at = '2026-12-05 09:30:00' WHERE id = 1")
    db.execute("UPDATE callprep_call SET starts_at = '2026-12-09 09:30:00' WHERE id = 2")

    due = dict(db.execute("SELECT id, due_at FROM callprep_brief"))
    parsed = datetime.fromisoformat(due[1]).replace(tzinfo=UTC)
    assert parsed == datetime(2026, 12, 3, 9, 30, 0, 250000, tzinfo=UTC)
    assert due[2] is None  # a brief without a due time keeps none

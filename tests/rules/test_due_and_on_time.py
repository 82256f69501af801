"""The due time and "on time", with known answers, on every screen that shows them.

A brief is due ``BRIEF_DUE_HOURS`` before its call's *current* start, and it is on time when it
was approved at or before that due time; both follow the call when it moves and the setting
when it changes. The brief page, the review queue, the dashboard's drill-down and its CSV, and
the reminders give the same answer as the rules (callprep/briefs/models.py) and as the answer
worked out by hand below.

The story (tests/rules/conftest.py): the call starts 72 hours from now (to the minute), so its
brief is due in 24 hours; an approval happens now.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from callprep.briefs.models import Brief, due_at_for, due_hours
from callprep.review.models import NotificationKind
from tests.rules.screens import (
    REP,
    REVIEWER,
    Says,
    brief_page_due,
    brief_page_says,
    csv_rows,
    csv_says,
    drill_due,
    drill_rows,
    drill_says,
    import_event,
    move_call,
    queue_says,
    reminders_say,
    reminders_sent,
    rule_says,
)

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)

# The call as planned (72 h ahead), moved 42 hours earlier (30 h ahead: its due time, 18 hours
# ago, is now before the approval), then four days later (126 h ahead: due in 78 hours).
STEPS = (("as planned", 0 * H), ("moved earlier", -42 * H), ("moved later", 96 * H))
# What every screen must say at each step, by the brief's state (a fixture), worked out by hand.
KNOWN = {
    "approved": (Says(True), Says(False), Says(True)),
    "submitted": (Says(False), Says(False, REVIEWER), Says(False)),
    "brief": (Says(False), Says(False, REP), Says(False)),  # a draft
}
AHEAD = {"as planned": 72, "moved earlier": 30, "moved later": 126}  # hours, about


def utc_minutes(moment: dt.datetime) -> str:
    """A moment as the pages and the CSV write it for these viewers, who have no zone of their
    own: in ``TIME_ZONE`` (UTC in the test settings)."""
    assert django_settings.TIME_ZONE == "UTC"
    return moment.astimezone(dt.UTC).isoformat(timespec="minutes")


def reload(brief) -> Brief:
    return Brief.objects.select_related("call").get(pk=brief.pk)


@pytest.mark.parametrize("state", KNOWN)
def test_every_screen_agrees_when_the_call_moves_earlier_and_later(
    state, request, client, alice, victor, mallory
):
    brief = request.getfixturevalue(state)
    call = brief.call

    for (step, by), known in zip(STEPS, KNOWN[state], strict=True):
        call = move_call(call, by, rep=alice, client=client)
        brief = reload(brief)
        now = timezone.now()

        answers = {
            "rules": rule_says(brief, now),
            "brief page": brief_page_says(client, alice, brief),
            "dashboard drill-down": drill_says(client, mallory, call),
            "dashboard CSV": csv_says(client, mallory, call),
        }
        assert answers == dict.fromkeys(answers, known), step
        # The review queue lists submitted briefs of calls still ahead, overdue or not.
        queued = queue_says(client, victor, brief)
        assert (queued is not None) == brief.in_review_queue(now) == (state == "submitted")
        if queued is not None:
            assert queued == known.overdue, step
        # The reminders remind the rep when the rep is late, and nobody otherwise.
        assert reminders_say(call) == (REP if known.overdue == REP else ""), step
        # The due time follows the call's current start everywhere.
        assert brief.due == due_at_for(call.starts_at) == call.starts_at - 48 * H
        assert brief_page_due(client, alice, brief) == utc_minutes(brief.due)
        assert drill_due(client, mallory, call) == utc_minutes(brief.due)
        row = csv_rows(client, mallory)[call.pk]
        assert row["due_at"] == utc_minutes(brief.due)
        if state == "approved":
            # Lead time: from the approval to the call's current start.
            lead = brief.lead_time().total_seconds() / 3600
            assert row["lead_time_hours"] == f"{lead:.1f}"
            assert abs(float(row["lead_time_hours"]) - AHEAD[step]) <= 0.1


def test_a_call_moved_by_the_calendar_import_moves_its_due_time_on_every_screen(
    submitted, client, alice, victor, mallory
):
    call = submitted.call
    for ahead, overdue in ((30, REVIEWER), (100, "")):  # due 18 hours ago; due in 52 hours
        call = import_event(client, alice, call, starts=timezone.now() + ahead * H)
        brief = reload(submitted)
        assert brief.due == call.starts_at - 48 * H
        known = Says(False, overdue)
        assert rule_says(brief) == known
        assert brief_page_says(client, alice, brief) == known
        assert drill_says(client, mallory, call) == known
        assert csv_says(client, mallory, call) == known
        assert queue_says(client, victor, brief) == overdue
        assert brief_page_due(client, alice, brief) == utc_minutes(brief.due)


def test_on_time_is_the_approval_against_the_due_time_as_the_call_is_now(approved, alice):
    """The approval stays what it was (the audit trail); "on time" is read afresh."""
    approved_at = approved.approved_at
    assert approved.is_on_time()

    call = move_call(approved.call, -42 * H, rep=alice)
    brief = reload(approved)
    assert brief.approved_at == approved_at
    assert approved_at > brief.due  # the due time (18 hours ago) is now before the approval
    assert not brief.is_on_time()
    assert Brief.objects.on_time().filter(pk=brief.pk).exists() is False

    move_call(call, 96 * H, rep=alice)
    brief = reload(approved)
    assert brief.is_on_time() and Brief.objects.on_time().filter(pk=brief.pk).exists()
    assert brief.approved_at == approved_at


@pytest.fixture
def tomorrow_evening(call, alice):
    """The call moved to 30 hours from now: due 18 hours ago with the default 48 hours."""
    return move_call(call, -42 * H, rep=alice)


@pytest.mark.parametrize(
    ("hours", "due_in_hours", "overdue"),
    [(48, -18, REP), (24, 6, ""), (36, -6, REP)],
)
def test_the_due_hours_setting_moves_every_due_time_and_overdue(
    settings, hours, due_in_hours, overdue, tomorrow_evening, brief, client, alice, mallory
):
    settings.BRIEF_DUE_HOURS = hours
    call = tomorrow_evening
    brief = reload(brief)
    now = timezone.now()

    assert due_hours() == hours
    due = call.starts_at - hours * H
    assert brief.due == due and abs((due - now) / H - due_in_hours) < 0.1
    assert brief_page_due(client, alice, brief) == utc_minutes(due)
    assert drill_due(client, mallory, call) == utc_minutes(due)
    assert csv_rows(client, mallory)[call.pk]["due_at"] == utc_minutes(due)

    says = Says(False, overdue)
    assert rule_says(brief, now) == says
    assert brief_page_says(client, alice, brief) == says
    assert drill_says(client, mallory, call) == says
    assert csv_says(client, mallory, call) == says
    assert (call.pk in drill_rows(client, mallory, "waiting_on_rep")) == bool(overdue)
    sent = reminders_sent(call)
    if overdue:
        assert (
            f"was due {hours} hours before the call"
            in sent[NotificationKind.REMINDER_NOT_SUBMITTED]
        )
    else:
        assert NotificationKind.REMINDER_NOT_SUBMITTED not in sent


@pytest.mark.parametrize(("hours", "on_time"), [(48, False), (24, True), (36, False)])
def test_the_due_hours_setting_decides_whether_an_approval_was_on_time(
    settings, hours, on_time, approved, client, alice, mallory
):
    """Approved now, for a call 30 hours ahead: on time only when it is due less than 30
    hours before the call."""
    call = move_call(approved.call, -42 * H, rep=alice)
    settings.BRIEF_DUE_HOURS = hours
    brief = reload(approved)

    says = Says(on_time)
    assert rule_says(brief) == says
    assert brief_page_says(client, alice, brief) == says
    assert drill_says(client, mallory, call) == says
    assert csv_says(client, mallory, call) == says
    assert (call.pk in drill_rows(client, mallory, "on_time")) == on_time
    assert (call.pk in drill_rows(client, mallory, "not_on_time")) == (not on_time)

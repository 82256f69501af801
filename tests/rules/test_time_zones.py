"""Times, with known answers: a call's time in its own zone, named, the same string on every
screen and in the CSV; every other time in the viewer's zone; wall time kept across a daylight
saving change; no "UTC" printed beside a converted time.

Calls are scheduled and moved through the call pages, as a rep does.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import User
from callprep import timefmt, workflow
from callprep.briefs import services
from callprep.briefs.models import Brief
from callprep.forms import DATETIME_LOCAL
from callprep.models import Call
from callprep.review.models import Notification, NotificationKind
from tests.review.conftest import fill
from tests.rules.screens import (
    brief_page_due,
    csv_rows,
    drill_due,
    drill_rows,
    edit_call,
    page,
    queue_rows,
    reminders_sent,
    status_box,
)

pytestmark = pytest.mark.django_db

TORONTO = zoneinfo.ZoneInfo("America/Toronto")


def schedule(client, rep, account, *, day: dt.date, executive, at: str = "17:00") -> Call:
    """Schedule a call on the call page: ``day`` at ``at`` (wall clock) in Toronto."""
    starts = dt.datetime.combine(day, dt.time.fromisoformat(at))
    client.force_login(rep)
    response = client.post(
        reverse("callprep:call_create"),
        {
            "account": account.pk,
            "title": f"Maple & Finch review {day:%d %b}",
            "kind": "business_review",
            "starts": starts.strftime(DATETIME_LOCAL),
            "ends": (starts + dt.timedelta(hours=1)).strftime(DATETIME_LOCAL),
            "time_zone": "America/Toronto",
            "executive": executive.pk,
            "purpose": "Agree the scope of a finance pilot.",
            "agenda": "Introductions\nTheir priorities\nNext steps",
            "agreed_outcome": "A date for the pilot workshop.",
        },
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
    return Call.objects.filter(account=account).latest("created_at")


def submitted_brief(call, rep) -> Brief:
    brief = services.start_brief(call, by=rep, collect_evidence=False)
    fill(brief, rep)
    workflow.submit_brief(Brief.objects.get(pk=brief.pk), by=rep)
    return Brief.objects.select_related("call").get(pk=brief.pk)


def in_zone(user, name: str) -> User:
    user.time_zone = name
    user.save()
    return User.objects.get(pk=user.pk)


def next_change(after: dt.date, *, spring: bool) -> dt.date:
    """The next day on which Toronto's clocks go forward (``spring``) or back."""
    day = after
    while True:
        noon_before = dt.datetime.combine(day, dt.time(12), TORONTO).utcoffset()
        noon_after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(12), TORONTO)
        if (
            noon_after.utcoffset() != noon_before
            and (noon_after.utcoffset() > noon_before) == spring
        ):
            return day + dt.timedelta(days=1)
        day += dt.timedelta(days=1)


def call_time_on(text: str, call) -> str:
    """The call's time as a page writes it: the text of its ``<time>`` (one of them)."""
    found = re.findall(
        rf'<time datetime="{re.escape(timefmt.call_time_iso(call))}">([^<]*)</time>', text
    )
    assert found, "the page does not show the call's time"
    assert len(set(found)) == 1
    return found[0]


@pytest.fixture
def viewers(alice, victor, mallory):
    """Everyone looks from another zone than the call's, and none from UTC."""
    return (
        in_zone(alice, "Europe/Lisbon"),
        in_zone(victor, "Europe/Berlin"),
        in_zone(mallory, "Asia/Tokyo"),
    )


def test_a_toronto_call_at_five_reads_the_same_on_every_screen_and_in_the_csv(
    client, acme, viewers
):
    alice, victor, mallory = viewers
    day = timezone.localdate() + dt.timedelta(days=10)
    call = schedule(client, alice, acme, day=day, executive=victor)
    brief = submitted_brief(call, alice)
    expected = timefmt.call_time(call)
    assert "17:00" in expected and expected.endswith("(America/Toronto)")
    assert expected.startswith(dateformat.format(day, "D j M Y") + ", 17:00 E")

    pages = {
        "My calls": page(client, alice, reverse("callprep:my_calls")),
        "call page": page(client, alice, call.get_absolute_url()),
        "account page": page(client, alice, reverse("accounts:detail", args=[acme.pk])),
        "brief page": page(client, alice, reverse("briefs:detail", args=[brief.pk])),
        "editor": page(client, alice, reverse("briefs:edit", args=[brief.pk])),
        "review queue": queue_rows(client, victor)[brief.pk],
        "executive view": page(client, victor, reverse("briefs:executive", args=[brief.pk])),
        "dashboard drill-down": drill_rows(client, mallory)[call.pk],
    }
    shown = {name: call_time_on(text, call) for name, text in pages.items()}
    assert shown == dict.fromkeys(shown, expected)
    assert csv_rows(client, mallory)[call.pk]["call_time"] == expected
    assert csv_rows(client, mallory)[call.pk]["starts_at_local"] == f"{day.isoformat()} 17:00"

    # Nobody here looks from UTC: no page says "UTC" beside a time it converted.
    full_pages = {
        **pages,
        "review queue": page(client, victor, reverse("callprep:review_queue")),
        "dashboard drill-down": page(
            client, mallory, reverse("callprep:dashboard:calls"), measure="calls"
        ),
    }
    for name, text in full_pages.items():
        assert "UTC" not in text, name


@pytest.mark.parametrize("spring", [True, False], ids=["march", "november"])
def test_a_call_just_after_a_daylight_saving_change_keeps_its_wall_time(
    spring, client, acme, alice, victor, mallory
):
    change = next_change(timezone.localdate(), spring=spring)
    before = schedule(client, alice, acme, day=change - dt.timedelta(days=2), executive=victor)
    after = schedule(client, alice, acme, day=change + dt.timedelta(days=1), executive=victor)

    # Known answers: Toronto is UTC-5 in winter (EST) and UTC-4 in summer (EDT).
    winter, summer = (before, after) if spring else (after, before)
    assert winter.starts_at.astimezone(dt.UTC).time() == dt.time(22, 0)
    assert summer.starts_at.astimezone(dt.UTC).time() == dt.time(21, 0)
    assert "17:00 EST (America/Toronto)" in timefmt.call_time(winter)
    assert "17:00 EDT (America/Toronto)" in timefmt.call_time(summer)
    for call in (before, after):
        assert call.local_start.time() == dt.time(17, 0)
        assert timefmt.call_time(call) == call_time_on(
            page(client, alice, call.get_absolute_url()), call
        )
        assert csv_rows(client, mallory)[call.pk]["call_time"] == timefmt.call_time(call)
        # The edit page offers the wall time again, and saving it unchanged moves nothing.
        form = page(client, alice, reverse("callprep:call_edit", args=[call.pk]))
        assert f'value="{call.local_start.strftime(DATETIME_LOCAL)}"' in form
        assert call.local_start.strftime(DATETIME_LOCAL).endswith("T17:00")
        again = edit_call(call, by=alice, client=client, title=call.title + " (agenda sent)")
        assert again.starts_at == call.starts_at

    # Moving the earlier call across the change to the later day keeps 17:00 local.
    moved = edit_call(
        before,
        by=alice,
        client=client,
        starts=after.local_start.strftime(DATETIME_LOCAL),
        ends=after.local_end.strftime(DATETIME_LOCAL),
    )
    assert moved.starts_at == after.starts_at
    assert moved.local_start.time() == dt.time(17, 0)
    assert call_time_on(page(client, alice, moved.get_absolute_url()), moved) == timefmt.call_time(
        after
    )


def test_the_due_time_before_a_spring_call_is_48_hours_not_two_wall_clock_days(
    client, acme, alice, victor
):
    """Due ``BRIEF_DUE_HOURS`` before the start: across the March change that is 16:00 on
    the Saturday, in Toronto, for a call at 17:00 on the Monday."""
    change = next_change(timezone.localdate(), spring=True)  # a Sunday
    monday = change + dt.timedelta(days=1)
    call = schedule(client, alice, acme, day=monday, executive=victor)
    brief = services.start_brief(call, by=alice, collect_evidence=False)
    alice = in_zone(alice, "America/Toronto")

    saturday_four = dt.datetime.combine(change - dt.timedelta(days=1), dt.time(16), TORONTO)
    assert brief.due == saturday_four
    assert brief_page_due(client, alice, brief) == saturday_four.isoformat(timespec="minutes")


def test_a_viewer_sees_due_times_in_their_own_zone(client, acme, alice, victor, mallory):
    """A call at 17:00 in Toronto in January (22:00 UTC) is due 48 hours earlier: 22:00 UTC
    two days before, which is 07:00 the next morning in Tokyo."""
    today = timezone.localdate()
    day = dt.date(today.year + (today >= dt.date(today.year, 1, 5)), 1, 15)
    call = schedule(client, alice, acme, day=day, executive=victor)
    brief = submitted_brief(call, alice)
    victor, mallory = in_zone(victor, "Asia/Tokyo"), in_zone(mallory, "Asia/Tokyo")

    tokyo_due = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(7, 0))
    iso = f"{tokyo_due:%Y-%m-%dT%H:%M}+09:00"
    short = dateformat.format(tokyo_due, "D j M, H:i")  # e.g. "Thu 14 Jan, 07:00"

    box = status_box(client, victor, brief)
    assert brief_page_due(client, victor, brief) == iso
    assert short in box and "(your time, Asia/Tokyo)" in box
    queue_row = queue_rows(client, victor)[brief.pk]
    assert f'<time datetime="{iso}"' in queue_row and short in queue_row
    assert drill_due(client, mallory, call) == iso
    assert csv_rows(client, mallory)[call.pk]["due_at"] == iso
    # A plain executive's dashboard shows the calls they join, due times in their zone too.
    assert drill_due(client, victor, call) == iso
    # The call's own time does not move with the viewer.
    assert "17:00 EST (America/Toronto)" in timefmt.call_time(call)
    assert call_time_on(queue_row, call) == timefmt.call_time(call)


def test_reminders_and_notifications_write_the_call_s_time_as_the_screens_do(
    client, acme, alice, victor
):
    day = timezone.localdate() + dt.timedelta(days=3)
    call = schedule(client, alice, acme, day=day, executive=victor)
    expected = timefmt.call_time(call)
    assert "17:00" in expected

    # No brief three days ahead: the rep is reminded, with the call's time as pages write it.
    assert expected in reminders_sent(call)[NotificationKind.REMINDER_NO_BRIEF]
    # The reviewer's notification of a submission names it the same way.
    brief = submitted_brief(call, alice)
    note = Notification.objects.get(brief=brief, kind=NotificationKind.SUBMITTED)
    assert note.recipient == victor and expected in note.body

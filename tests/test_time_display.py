"""Times are written one way: a call's time in its own zone, named, the same string on every
screen and export; every other time in the viewer's zone (their profile setting, else
``TIME_ZONE``); no template prints a literal "UTC"."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from callprep import timefmt
from callprep.models import Call, CallStatus
from tests.accounts.conftest import acme, east, make_call  # noqa: F401

TORONTO = zoneinfo.ZoneInfo("America/Toronto")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def a_call(starts: dt.datetime, *, zone: str, hours: int = 1, all_day: bool = False) -> Call:
    """An unsaved call: the helper reads only its start, end, zone and all-day flag."""
    starts = starts.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    ends = starts + (dt.timedelta(days=hours) if all_day else dt.timedelta(hours=hours))
    return Call(starts_at=starts, ends_at=ends, time_zone=zone, all_day=all_day)


def render(source: str, **context) -> str:
    return Template("{% load times %}" + source).render(Context(context))


# --- The helper's known answers ---------------------------------------------------------------


def test_a_call_is_written_in_its_own_zone_with_the_zone_named():
    call = a_call(dt.datetime(2026, 12, 8, 17, 0), zone="America/Toronto")

    assert timefmt.call_time(call) == "Tue 8 Dec 2026, 17:00 EST (America/Toronto)"
    assert timefmt.call_time_iso(call) == "2026-12-08T17:00-05:00"


def test_the_same_wall_clock_time_either_side_of_the_november_change_keeps_its_hour():
    # Toronto leaves daylight saving time on Sunday 1 November 2026 at 02:00.
    before = a_call(dt.datetime(2026, 10, 31, 17, 0), zone="America/Toronto")
    after = a_call(dt.datetime(2026, 11, 2, 17, 0), zone="America/Toronto")

    assert before.starts_at.astimezone(dt.UTC).hour == 21
    assert after.starts_at.astimezone(dt.UTC).hour == 22
    assert timefmt.call_time(before) == "Sat 31 Oct 2026, 17:00 EDT (America/Toronto)"
    assert timefmt.call_time(after) == "Mon 2 Nov 2026, 17:00 EST (America/Toronto)"
    assert timefmt.call_time_iso(before) == "2026-10-31T17:00-04:00"
    assert timefmt.call_time_iso(after) == "2026-11-02T17:00-05:00"


def test_a_call_stored_in_utc_is_still_written_in_its_own_zone():
    call = Call(
        starts_at=dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 11, 2, 23, 0, tzinfo=dt.UTC),
        time_zone="America/Toronto",
    )

    assert timefmt.call_time(call) == "Mon 2 Nov 2026, 17:00 EST (America/Toronto)"


def test_an_all_day_call_says_so_and_gives_its_days():
    one_day = a_call(dt.datetime(2026, 12, 8), zone="Europe/Berlin", hours=1, all_day=True)
    three_days = a_call(dt.datetime(2026, 12, 8), zone="Europe/Berlin", hours=3, all_day=True)

    assert timefmt.call_time(one_day) == "Tue 8 Dec 2026, all day (Europe/Berlin)"
    assert timefmt.call_time_iso(one_day) == "2026-12-08"
    assert (
        timefmt.call_time(three_days)
        == "Tue 8 Dec 2026 to Thu 10 Dec 2026, all day (Europe/Berlin)"
    )


def test_a_zone_without_letters_is_named_alone_and_underscores_read_as_spaces():
    istanbul = a_call(dt.datetime(2026, 12, 8, 9, 30), zone="Europe/Istanbul")
    sao_paulo = a_call(dt.datetime(2026, 12, 8, 9, 30), zone="America/Sao_Paulo")
    utc = a_call(dt.datetime(2026, 12, 8, 9, 30), zone="UTC")

    assert timefmt.call_time(istanbul) == "Tue 8 Dec 2026, 09:30 (Europe/Istanbul)"
    assert timefmt.call_time(sao_paulo) == "Tue 8 Dec 2026, 09:30 (America/Sao Paulo)"
    assert timefmt.call_time(utc) == "Tue 8 Dec 2026, 09:30 (UTC)"


def test_a_viewer_in_another_zone_sees_the_call_in_its_zone_and_other_times_in_theirs():
    call = a_call(dt.datetime(2026, 12, 8, 17, 0), zone="America/Toronto")
    due = call.starts_at - dt.timedelta(hours=48)

    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        page = render('{% call_when call %}|{% viewer_when due "short" %}', call=call, due=due)
        assert timefmt.viewer_time(call.starts_at) == "Wed 9 Dec 2026, 07:00"
        assert timefmt.viewer_zone() == "Asia/Tokyo"

    assert page == (
        '<time datetime="2026-12-08T17:00-05:00">Tue 8 Dec 2026, 17:00 EST (America/Toronto)'
        '</time>|<time datetime="2026-12-07T07:00+09:00" title="Your time zone: Asia/Tokyo">'
        "Mon 7 Dec, 07:00</time>"
    )


def test_the_date_filter_would_convert_the_call_time_which_is_the_bug_the_helper_avoids():
    call = a_call(dt.datetime(2026, 12, 8, 17, 0), zone="America/Toronto")

    with timezone.override(dt.UTC):
        assert render('{{ call.local_start|date:"H:i" }}', call=call) == "22:00"
        assert "17:00 EST" in render("{{ call|call_time }}", call=call)


# --- No literal UTC in templates ---------------------------------------------------------------


def test_no_template_prints_a_literal_utc():
    root = Path(settings.BASE_DIR) / "templates"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    offenders = [name for name in offenders if "UTC" in (root / name).read_text()]
    assert offenders == []


# --- Every screen shows a demo call's time as the same string -----------------------------------


def page_text(client, user, url: str, **params) -> str:
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def drill_down(client, user, start: dt.date, end: dt.date) -> tuple[str, list[dict]]:
    params = {"measure": "calls", "start": start.isoformat(), "end": end.isoformat()}
    pages, number = [], 1
    while True:
        text = page_text(client, user, reverse("callprep:dashboard:calls"), page=number, **params)
        pages.append(text)
        if f"page={number + 1}" not in text:
            break
        number += 1
    client.force_login(user)
    response = client.get(reverse("callprep:dashboard:calls_csv"), params)
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return "\n".join(pages), list(csv.DictReader(io.StringIO(body)))


@pytest.mark.django_db
def test_every_upcoming_demo_call_reads_the_same_on_every_screen_and_in_the_csv(client):
    from accounts.models import User
    from callprep.briefs.models import Brief
    from callprep.demo.load import seed

    users = seed(evidence=False)
    now = timezone.now()
    upcoming = list(
        Call.objects.filter(starts_at__gte=now, status=CallStatus.SCHEDULED)
        .select_related("owner", "executive", "account__team")
        .order_by("starts_at")
    )
    assert len(upcoming) >= 5
    assert len({c.time_zone for c in upcoming}) > 1  # the demo spans zones

    vp, manager, admin = users["vp"], users["manager"], users["admin"]
    manager.time_zone = "Pacific/Auckland"  # the viewer's zone must not move a call's time
    manager.save()
    manager = User.objects.get(pk=manager.pk)
    my_calls = {
        owner: page_text(client, owner, reverse("callprep:my_calls"))
        for owner in {c.owner for c in upcoming}
    }
    queue = page_text(client, vp, reverse("callprep:review_queue"))
    last_day = max(c.local_start.date() for c in upcoming) + dt.timedelta(days=1)
    first_day = timezone.localdate() - dt.timedelta(days=1)
    drill = {who: drill_down(client, who, first_day, last_day) for who in (manager, admin)}

    queued = 0
    for call in upcoming:
        when = timefmt.call_time(call)
        assert when in my_calls[call.owner], call
        assert when in page_text(client, call.owner, call.get_absolute_url()), call
        brief = Brief.objects.filter(call=call).first()
        if brief is not None:
            assert when in page_text(client, call.owner, reverse("briefs:detail", args=[brief.pk]))
            reader = vp if call.executive_id == vp.pk else call.owner
            assert when in page_text(client, reader, reverse("briefs:executive", args=[brief.pk]))
            if f'href="{reverse("briefs:executive", args=[brief.pk])}"' in queue:
                assert when in queue, call
                queued += 1
        viewer = manager if call.account.team and call.account.team.name == "East" else admin
        page, rows = drill[viewer]
        assert when in page, call
        row = next(r for r in rows if r["call_id"] == str(call.pk))
        assert row["call_time"] == when
    assert queued >= 1  # the vp's queue holds some of them
    # The manager's other times are in their own zone, with its offset.
    east_rows = [r for r in drill[manager][1] if r["due_at"]]
    assert east_rows and all(r["due_at"].endswith(("+12:00", "+13:00")) for r in east_rows)


# --- The viewer's zone: a profile setting -------------------------------------------------------


@pytest.fixture
def notified(alice):
    from callprep.review.models import Notification, NotificationKind

    return Notification.objects.create(
        recipient=alice,
        kind=NotificationKind.SUBMITTED,
        subject="A brief was submitted",
        created_at=dt.datetime(2026, 12, 8, 22, 30, tzinfo=dt.UTC),
    )


def notifications_page(client, user) -> str:
    return page_text(client, user, reverse("briefs:notifications"))


@pytest.mark.django_db
def test_the_profile_time_zone_changes_how_other_times_are_shown(client, alice, notified):
    assert settings.TIME_ZONE == "UTC"
    assert "8 Dec, 22:30" in notifications_page(client, alice)

    client.force_login(alice)
    response = client.post(reverse("profile"), {"time_zone": "Asia/Tokyo"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "Asia/Tokyo"
    page = notifications_page(client, alice)
    assert "Wed 9 Dec, 07:30" in page and "8 Dec, 22:30" not in page
    assert "Asia/Tokyo" in page_text(client, alice, reverse("profile"))
    # The zone is the request's only: it is not left active afterwards.
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


@pytest.mark.django_db
def test_a_blank_profile_time_zone_means_the_default(client, alice, notified):
    alice.time_zone = "Asia/Tokyo"
    alice.save()
    client.force_login(alice)

    client.post(reverse("profile"), {"time_zone": ""})

    alice.refresh_from_db()
    assert alice.time_zone == ""
    assert "Tue 8 Dec, 22:30" in notifications_page(client, alice)


@pytest.mark.django_db
def test_a_bad_time_zone_is_refused_and_changes_nothing(client, alice, notified):
    alice.time_zone = "Europe/Berlin"
    alice.save()
    client.force_login(alice)

    response = client.post(reverse("profile"), {"time_zone": "Mars/Olympus_Mons"})

    assert response.status_code == 400
    assert "Mars/Olympus_Mons is not a time zone name" in html.unescape(response.text)
    alice.refresh_from_db()
    assert alice.time_zone == "Europe/Berlin"
    assert "Tue 8 Dec, 23:30" in notifications_page(client, alice)


@pytest.mark.django_db
def test_a_due_time_next_to_a_call_time_names_the_viewers_zone(
    client,
    alice,
    acme,  # noqa: F811
    make_call,  # noqa: F811
):
    from callprep.briefs import services

    starts = dt.datetime(2030, 3, 12, 17, 0, tzinfo=TORONTO)
    call = make_call(acme, time_zone="America/Toronto")
    call.starts_at, call.ends_at = starts, starts + dt.timedelta(hours=1)
    call.save()
    brief = services.start_brief(call, by=alice, collect_evidence=False)
    alice.time_zone = "Europe/Berlin"
    alice.save()

    page = page_text(client, alice, reverse("briefs:detail", args=[brief.pk]))

    assert "Tue 12 Mar 2030, 17:00 EDT (America/Toronto)" in page
    # Due 48 hours before: 21:00 UTC on 10 March, 22:00 in Berlin.
    assert "Sun 10 Mar, 22:00" in page and "(your time, Europe/Berlin)" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("viewer_zone", "due"),
    [
        # Toronto leaves daylight saving time on Sunday 3 November 2030: the 48 hours before a
        # Monday 17:00 EST call start at 18:00 EDT on the Saturday.
        ("America/Toronto", "Sat 2 Nov, 18:00"),
        # Berlin left it on 27 October: 22:00 UTC is 23:00 CET.
        ("Europe/Berlin", "Sat 2 Nov, 23:00"),
    ],
)
def test_across_the_november_change_the_call_keeps_its_hour_and_the_due_time_is_the_viewers(
    client,
    alice,
    acme,  # noqa: F811
    make_call,  # noqa: F811
    viewer_zone,
    due,
):
    from callprep.briefs import services

    starts = dt.datetime(2030, 11, 4, 17, 0, tzinfo=TORONTO)
    call = make_call(acme, time_zone="America/Toronto")
    call.starts_at, call.ends_at = starts, starts + dt.timedelta(hours=1)
    call.save()
    brief = services.start_brief(call, by=alice, collect_evidence=False)
    alice.time_zone = viewer_zone
    alice.save()

    for url in (reverse("briefs:detail", args=[brief.pk]), call.get_absolute_url()):
        page = page_text(client, alice, url)
        assert "Mon 4 Nov 2030, 17:00 EST (America/Toronto)" in page, url
    page = page_text(client, alice, reverse("briefs:detail", args=[brief.pk]))
    assert f"Due {due} (your time, {viewer_zone})" in " ".join(strip_tags(page).split())


@pytest.mark.django_db
def test_the_profile_lists_every_zone_with_the_users_own_selected(client, alice):
    from accounts.timezones import available_time_zones

    alice.time_zone = "America/Port-au-Prince"
    alice.save()
    client.force_login(alice)

    page = client.get(reverse("profile")).content.decode()

    start = page.index("<select", page.index('id="time-zone"'))
    select = page[start : page.index("</select>", start)]
    assert 'name="time_zone"' in select
    assert select.count("<option ") == len(available_time_zones()) + 1  # and "Default (…)"
    assert '<option value="America/Port-au-Prince" selected>America/Port-au-Prince</option>' in (
        select
    )
    assert select.count(" selected") == 1
    assert '<option value="" >' not in select and '<option value="">Default (UTC)' in select
    assert 'id="id_time_zone"' in select and "aria-describedby" in select

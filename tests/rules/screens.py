"""What each screen says about a call, read the way a user reads it: from the pages, the CSV
and the reminders that go out. The rule tests compare these answers with each other, with the
rule functions (callprep/briefs/models.py) and with answers worked out by hand.

Calls are changed through the product's write path only: the call edit page (or
``callprep.services.save_call`` with a ``CallForm``), never an ORM update.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from callprep import services
from callprep.forms import DATETIME_LOCAL, CallForm
from callprep.models import Call
from callprep.review import reminders
from callprep.review.models import Notification, NotificationKind, SentReminder
from tests.helpers import import_calendar

REP, REVIEWER = "waiting on the rep", "waiting on the reviewer"


# --- Writing: the call edit form ---------------------------------------------------------------


def form_data(call: Call, **changes) -> dict:
    """The call edit form as the page fills it in, with ``changes`` (form field names)."""
    zone = call.zone
    data = {
        "account": call.account_id,
        "title": call.title,
        "kind": call.kind,
        "status": call.status,
        "starts": call.starts_at.astimezone(zone).strftime(DATETIME_LOCAL),
        "ends": call.ends_at.astimezone(zone).strftime(DATETIME_LOCAL),
        "time_zone": call.time_zone,
        "location": call.location,
        "meeting_url": call.meeting_url,
        "executive": call.executive_id or "",
        "contacts": [c.pk for c in call.contacts.all()],
        "purpose": call.purpose,
        "agenda": call.agenda,
        "agreed_outcome": call.agreed_outcome,
    }
    if call.all_day:
        data["all_day"] = "on"
    data.update(changes)
    return data


def moved(call: Call, by: dt.timedelta) -> dict:
    """The form fields that move the call by ``by`` (the same length, in its own zone)."""
    zone = call.zone
    return {
        "starts": (call.starts_at + by).astimezone(zone).strftime(DATETIME_LOCAL),
        "ends": (call.ends_at + by).astimezone(zone).strftime(DATETIME_LOCAL),
    }


def edit_call(call: Call, *, by, client=None, **changes) -> Call:
    """Change a call as its rep does: the edit page when a ``client`` is given, else the
    service the page calls (``save_call`` with a bound ``CallForm``). Returns it reloaded."""
    call = Call.objects.get(pk=call.pk)
    data = form_data(call, **changes)
    if client is not None:
        client.force_login(by)
        response = client.post(reverse("callprep:call_edit", args=[call.pk]), data)
        assert response.status_code == 302, page_errors(response)
    else:
        form = CallForm(data, instance=call, user=by)
        assert form.is_valid(), form.errors
        services.save_call(form)
    return Call.objects.get(pk=call.pk)


def move_call(call: Call, by: dt.timedelta, *, rep, client=None) -> Call:
    return edit_call(call, by=rep, client=client, **moved(Call.objects.get(pk=call.pk), by))


def import_event(client, rep, call: Call, *, starts: dt.datetime, cancelled: bool = False) -> Call:
    """Upload the rep's calendar with the call's event moved to ``starts`` (or cancelled): the
    calendar import finds the call by its UID and changes it."""
    # The import validates the whole call, and a call with no creator fails that
    # (``Call.created_by`` is nullable but not blank=True): name the rep, as the call pages do.
    Call.objects.filter(pk=call.pk, created_by__isnull=True).update(created_by=rep)
    call = Call.objects.get(pk=call.pk)
    stamp = "%Y%m%dT%H%M%SZ"
    length = call.ends_at - call.starts_at
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//SalesPrep tests//EN",
        "BEGIN:VEVENT",
        f"UID:{call.ical_uid}",
        f"DTSTAMP:{timezone.now().astimezone(dt.UTC):{stamp}}",
        f"DTSTART:{starts.astimezone(dt.UTC):{stamp}}",
        f"DTEND:{(starts + length).astimezone(dt.UTC):{stamp}}",
        f"SUMMARY:{call.title}",
        f"SEQUENCE:{call.sequence + 1}",
        "STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    upload = SimpleUploadedFile(
        "calendar.ics", ("\r\n".join(lines) + "\r\n").encode(), content_type="text/calendar"
    )
    client.force_login(rep)
    response = import_calendar(client, upload.read(), upload.name)
    assert response.status_code == 200 and "1 updated" in response.content.decode(), page_errors(
        response
    )
    return Call.objects.get(pk=call.pk)


def page_errors(response) -> str:
    return f"{response.status_code}: " + re.sub(r"\s+", " ", response.content.decode())[-2000:]


# --- Reading: pages ------------------------------------------------------------------------------


def page(client, user, url: str, **params) -> str:
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.content.decode())


@dataclass(frozen=True)
class Says:
    """One screen's answer about a call: on time, and the overdue case ("" when not overdue)."""

    on_time: bool
    overdue: str = ""


def rule_says(brief, now=None) -> Says:
    """What the rule functions say (through the model's methods)."""
    now = now or timezone.now()
    overdue = (
        REP if brief.waiting_on_rep(now) else REVIEWER if brief.waiting_on_reviewer(now) else ""
    )
    assert not (brief.waiting_on_rep(now) and brief.waiting_on_reviewer(now))
    return Says(brief.is_on_time(), overdue)


def _times(fragment: str) -> list[str]:
    """The machine times (``<time datetime>``) of a fragment, in order."""
    return re.findall(r'<time datetime="([^"]+)"', fragment)


def status_box(client, user, brief) -> str:
    """The review status box of the brief page (briefs/detail): due time, overdue, on time."""
    text = page(client, user, reverse("briefs:detail", args=[brief.pk]))
    found = re.search(r'<section class="card review-status".*?</section>', text, re.S)
    assert found, "the brief page has no review status"
    return found.group(0)


def brief_page_says(client, user, brief) -> Says:
    box = status_box(client, user, brief)
    on_time = 'badge-ok">on time<' in box
    assert not (on_time and "not on time" in box)
    return Says(on_time, _overdue_words(box, rep="the rep", reviewer="the reviewer"))


def brief_page_due(client, user, brief) -> str:
    """The due time on the brief page, in its machine form (the viewer's zone)."""
    return _times(status_box(client, user, brief).split("Due", 1)[1])[0]


def _overdue_words(fragment: str, *, rep: str, reviewer: str) -> str:
    rep_says = f"Overdue: waiting on {rep}" in fragment
    reviewer_says = f"Overdue: waiting on {reviewer}" in fragment
    assert not (rep_says and reviewer_says), fragment
    return REP if rep_says else REVIEWER if reviewer_says else ""


def queue_rows(client, user) -> dict[int, str]:
    """The review queue's rows by brief id."""
    text = page(client, user, reverse("callprep:review_queue"))
    rows = re.findall(r'<tr class="queue-row[^"]*">(.*?)</tr>', text, re.S)
    by_brief = {}
    for row in rows:
        pk = int(re.search(r'href="/briefs/(\d+)/executive/"', row).group(1))
        by_brief[pk] = row
    return by_brief


def queue_says(client, user, brief) -> str | None:
    """None when the brief is not in the queue, else its overdue case ("" for none)."""
    row = queue_rows(client, user).get(brief.pk)
    if row is None:
        return None
    return REVIEWER if "Overdue: waiting on you" in row else ""


def period() -> dict[str, str]:
    """A dashboard period wide enough for every call of these tests."""
    today = timezone.localdate()
    return {
        "start": (today - dt.timedelta(days=40)).isoformat(),
        "end": (today + dt.timedelta(days=400)).isoformat(),
    }


def drill_rows(client, user, measure: str = "calls") -> dict[int, str]:
    """The dashboard drill-down's rows by call id."""
    text = page(client, user, reverse("callprep:dashboard:calls"), measure=measure, **period())
    rows = re.findall(r'<tr data-call="(\d+)">(.*?)</tr>', text, re.S)
    return {int(pk): row for pk, row in rows}


def drill_says(client, user, call) -> Says:
    row = drill_rows(client, user)[call.pk]
    return Says(
        'badge-ok">On time<' in row, _overdue_words(row, rep="the rep", reviewer="the reviewer")
    )


def drill_due(client, user, call) -> str:
    """The due time of the call's drill-down row, in its machine form (the viewer's zone)."""
    return _times(drill_rows(client, user)[call.pk])[1]


def csv_rows(client, user, measure: str = "calls") -> dict[int, dict[str, str]]:
    """The drill-down's CSV export by call id."""
    client.force_login(user)
    response = client.get(reverse("callprep:dashboard:calls_csv"), {"measure": measure, **period()})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return {int(r["call_id"]): r for r in csv.DictReader(io.StringIO(body))}


def csv_says(client, user, call) -> Says:
    row = csv_rows(client, user)[call.pk]
    assert row["on_time"] in ("yes", "no")
    return Says(row["on_time"] == "yes", row["overdue"])


class _Undo(Exception):
    pass


def reminders_sent(call, now=None) -> dict[str, str]:
    """The reminders a run of the reminder jobs would send about this call, by kind, with
    their text; the run is rolled back, so a later call of this helper sees the same world."""
    try:
        with transaction.atomic():
            reminders.send_reminders(now)
            sent = {
                r.kind: Notification.objects.get(call=r.call, kind=r.kind, recipient=r.user).body
                for r in SentReminder.objects.filter(call=call)
            }
            raise _Undo(sent)
    except _Undo as undo:
        return undo.args[0]


def reminders_say(call, now=None) -> str:
    """The overdue case the reminders act on: the rep is reminded when they are late."""
    sent = reminders_sent(call, now)
    return REP if NotificationKind.REMINDER_NOT_SUBMITTED in sent else ""

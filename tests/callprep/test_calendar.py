import datetime as dt
import zoneinfo

import icalendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contact
from callprep import calendar, feeds, services, tasks
from callprep.models import CalendarFeed, CalendarImport, Call, CallStatus
from tests.helpers import import_calendar

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.now().year + 1

OUTLOOK = f"""BEGIN:VCALENDAR
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
VERSION:2.0
METHOD:PUBLISH
BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:040000008200E00074C5B7101A82E008000000001
SUMMARY:Acme quarterly review
DTSTART;TZID="W. Europe Standard Time":{NEXT_YEAR}0115T100000
DTEND;TZID="W. Europe Standard Time":{NEXT_YEAR}0115T113000
LOCATION:Acme HQ, Boston
ATTENDEE;CN="Dana Buyer";RSVP=TRUE:mailto:dana@acme.example
ATTENDEE;CN="Alice";RSVP=TRUE:mailto:alice@example.com
ATTENDEE;CN="Victor";RSVP=TRUE:mailto:victor@example.com
END:VEVENT
BEGIN:VEVENT
UID:040000008200E00074C5B7101A82E008000000002
SUMMARY:Lunch with a prospect
DTSTART;TZID="W. Europe Standard Time":{NEXT_YEAR}0116T120000
DTEND;TZID="W. Europe Standard Time":{NEXT_YEAR}0116T130000
ATTENDEE:mailto:someone@unknown-prospect.example
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")

GOOGLE = f"""BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
X-WR-CALNAME:alice@example.com
X-WR-TIMEZONE:America/New_York
BEGIN:VEVENT
DTSTART:{NEXT_YEAR}0210T150000Z
DTEND:{NEXT_YEAR}0210T160000Z
UID:abc123@google.com
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;CN=Pat:mailto:pat@eu.acme.example
SUMMARY:Acme discovery (Google)
STATUS:CONFIRMED
END:VEVENT
BEGIN:VEVENT
DTSTART;VALUE=DATE:{NEXT_YEAR}0301
DTEND;VALUE=DATE:{NEXT_YEAR}0303
UID:allday@google.com
ATTENDEE:mailto:dana@acme.example
SUMMARY:Acme onsite workshop
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")


def upload(client, text: str | bytes, name="calendar.ics"):
    return import_calendar(client, text, name)


def test_an_outlook_file_creates_calls_matched_by_attendee_domain(
    alice_client, alice, acme, dana, victor
):
    response = upload(alice_client, OUTLOOK)

    assert response.status_code == 200
    call = Call.objects.get()
    assert call.account == acme
    assert call.owner == alice
    assert call.title == "Acme quarterly review"
    assert call.time_zone == "Europe/Berlin"
    assert call.local_start.hour == 10
    assert call.starts_at == dt.datetime(NEXT_YEAR, 1, 15, 9, 0, tzinfo=dt.UTC)
    assert call.location == "Acme HQ, Boston"
    assert list(call.contacts.all()) == [dana]
    assert call.executive == victor
    # The lunch matched no account: it is listed for assignment.
    html = response.content.decode()
    assert "Lunch with a prospect" in html
    assert "someone@unknown-prospect.example" in html


def test_a_google_file_keeps_utc_times_and_handles_all_day_events(alice_client, acme):
    upload(alice_client, GOOGLE)

    timed = Call.objects.get(ical_uid="abc123@google.com")
    assert timed.account == acme  # eu.acme.example belongs to acme.example
    assert timed.starts_at == dt.datetime(NEXT_YEAR, 2, 10, 15, tzinfo=dt.UTC)
    assert timed.time_zone == "America/New_York"
    assert timed.local_start.hour == 10
    all_day = Call.objects.get(ical_uid="allday@google.com")
    assert all_day.all_day
    assert all_day.local_start == dt.datetime(
        NEXT_YEAR, 3, 1, tzinfo=zoneinfo.ZoneInfo("America/New_York")
    )
    assert all_day.local_end.date() == dt.date(NEXT_YEAR, 3, 3)


def test_importing_the_same_file_twice_updates_instead_of_duplicating(alice_client, acme):
    upload(alice_client, OUTLOOK)
    moved = OUTLOOK.replace("0115T100000", "0115T140000").replace("0115T113000", "0115T150000")

    upload(alice_client, moved)

    call = Call.objects.get()
    assert call.local_start.hour == 14
    assert call.sequence == 1


def test_a_cancelled_event_cancels_the_call(alice_client, acme):
    upload(alice_client, GOOGLE)

    upload(alice_client, GOOGLE.replace("STATUS:CONFIRMED", "STATUS:CANCELLED"))

    assert Call.objects.get(ical_uid="abc123@google.com").status == CallStatus.CANCELLED


def test_unmatched_events_are_assigned_to_an_account(alice_client, acme):
    upload(alice_client, OUTLOOK)
    pending = CalendarImport.objects.get()
    url = reverse("callprep:calendar_assign", args=[pending.pk])

    page = alice_client.get(url)
    response = alice_client.post(url, {"event_0": acme.pk})

    assert "Lunch with a prospect" in page.content.decode()
    assert response.status_code == 302
    assert Call.objects.get(title="Lunch with a prospect").account == acme
    assert not CalendarImport.objects.exists()


def test_someone_else_cannot_see_or_assign_my_unmatched_events(alice_client, client, bob, acme):
    upload(alice_client, OUTLOOK)
    pending = CalendarImport.objects.get()
    client.force_login(bob)

    url = reverse("callprep:calendar_assign", args=[pending.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"event_0": acme.pk}).status_code == 404
    assert Call.objects.count() == 1


def test_events_cannot_be_assigned_to_accounts_the_rep_does_not_own(alice_client, acme, westwind):
    upload(alice_client, OUTLOOK)
    url = reverse("callprep:calendar_assign", args=[CalendarImport.objects.get().pk])

    response = alice_client.post(url, {"event_0": westwind.pk})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "Westwind" not in response.content.decode()  # not offered either
    assert not Call.objects.filter(account=westwind).exists()


def test_an_event_already_imported_by_someone_else_is_skipped(
    client, charlie, alice_client, acme, westwind
):
    upload(alice_client, GOOGLE)
    client.force_login(charlie)
    westwind.domain = "eu.acme.example"
    westwind.save()

    response = upload(client, GOOGLE)

    assert "already in SalesPrep for someone else" in response.content.decode()
    assert Call.objects.get(ical_uid="abc123@google.com").owner.username == "alice"


def test_a_file_that_is_not_a_calendar_is_refused(alice_client):
    response = upload(alice_client, b"Account Name\nAcme\n", "accounts.csv")

    assert response.status_code == 200
    assert "not an iCalendar" in response.content.decode()
    assert not Call.objects.exists()


def test_a_calendar_over_5_mb_is_refused(alice_client):
    response = upload(alice_client, b"BEGIN:VCALENDAR\r\n" + b"X" * (5 * 1024 * 1024 + 1))

    assert "larger than 5 MB" in response.content.decode()


@pytest.mark.parametrize("who", ["mallory", "victor", "nobody"])
def test_only_reps_and_admins_import_calendars(client, request, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("callprep:calendar_import")).status_code == 403
    assert upload(client, GOOGLE).status_code == 403


def test_calendar_import_requires_sign_in(client, db):
    assert client.get(reverse("callprep:calendar_import")).status_code == 302


# --- Export --------------------------------------------------------------------------------


def test_a_call_downloads_as_ics_and_imports_back_unchanged(
    alice_client, acme, dana, make_call, victor
):
    call = make_call(acme, executive=victor, time_zone="Asia/Tokyo", purpose="Pilot scope")
    call.contacts.add(dana)

    response = alice_client.get(reverse("callprep:call_ics", args=[call.pk]))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    parsed = calendar.parse_calendar(response.content.decode())
    assert len(parsed) == 1
    event = parsed[0]
    assert event.uid == call.ical_uid
    assert event.starts_at == call.starts_at
    assert event.ends_at == call.ends_at
    assert event.time_zone == "Asia/Tokyo"
    assert "dana@acme.example" in event.attendee_emails
    assert "Pilot scope" in event.description
    # Importing the download updates the same call rather than creating another.
    upload(alice_client, response.content)
    assert Call.objects.count() == 1
    assert Call.objects.get().title == call.title


def test_an_all_day_call_exports_as_dates(acme, make_call):
    call = make_call(acme, all_day=True)
    cal = icalendar.Calendar.from_ical(calendar.calls_to_ics([call]))

    event = next(iter(cal.walk("VEVENT")))
    assert type(event.decoded("DTSTART")) is dt.date


# --- Personal feed -------------------------------------------------------------------------


def feed_url(client):
    response = client.post(reverse("callprep:feed_settings"), {"action": "create"})
    assert response.status_code == 200
    return response.context["feed_url"]


def test_a_rep_subscribes_to_their_upcoming_calls(alice_client, client, acme, make_call, westwind):
    make_call(acme, days=2, title="Upcoming one")
    make_call(acme, days=-2, title="Past one")
    make_call(westwind, days=2, title="Charlie's one")
    url = feed_url(alice_client)
    client.logout()

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "no-store" in response["Cache-Control"]
    titles = [e.summary for e in calendar.parse_calendar(response.content.decode())]
    assert titles == ["Upcoming one"]
    assert CalendarFeed.objects.get().last_used_at is not None


def test_the_feed_address_starts_with_site_url_whatever_host_the_request_named(
    alice_client, settings
):
    settings.SITE_URL = "https://sales.example.com"
    url = feed_url(alice_client)
    assert url.startswith("https://sales.example.com/calls/feed/")
    assert url.endswith(".ics")


def test_the_feed_secret_is_stored_only_as_a_hash(alice_client):
    url = feed_url(alice_client)
    secret = url.rsplit("/", 1)[1].removesuffix(".ics")

    feed = CalendarFeed.objects.get()
    assert secret not in feed.secret_hash
    assert feed.matches(secret)


def test_a_wrong_secret_or_key_gets_404(alice_client, client):
    url = feed_url(alice_client)
    key = CalendarFeed.objects.get().key
    client.logout()

    assert client.get(url.replace(".ics", "x.ics")).status_code == 404
    assert client.get(url.replace(key, "0" * 16)).status_code == 404


def test_a_revoked_feed_stops_working(alice_client, client):
    url = feed_url(alice_client)

    alice_client.post(reverse("callprep:feed_settings"), {"action": "revoke"})

    assert client.get(url).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_a_new_address_replaces_the_old_one(alice_client, client):
    old = feed_url(alice_client)
    new = feed_url(alice_client)

    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_a_deactivated_users_feed_stops_working(alice_client, alice, client):
    url = feed_url(alice_client)
    alice.is_active = False
    alice.save()

    assert client.get(url).status_code == 404


def test_feed_settings_need_sign_in_and_a_rep(client, mallory, db):
    assert client.get(reverse("callprep:feed_settings")).status_code == 302
    client.force_login(mallory)
    assert client.post(reverse("callprep:feed_settings"), {"action": "create"}).status_code == 403


def test_feed_for_compares_in_constant_time(monkeypatch, alice):
    calls = []
    import hmac

    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    feed, secret = feeds.issue_feed(alice)

    assert feeds.feed_for(feed.key, secret) == feed
    assert feeds.feed_for("unknown", secret) is None
    assert len(calls) == 2  # the unknown key is compared too


def test_an_event_without_account_domains_stays_unmatched(alice, acme):
    event = calendar.ParsedEvent(
        uid="x",
        summary="Internal",
        starts_at=timezone.now(),
        ends_at=timezone.now(),
        time_zone="UTC",
        all_day=False,
        attendee_emails=["bob@example.com"],
    )

    report = calendar.import_calendar([event], user=alice)

    assert report.unmatched == [event]
    assert not Contact.objects.exists()


# --- Bounded work ---------------------------------------------------------------------------


def calendar_of(events: list[str]) -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{event}\r\nEND:VEVENT\r\n" for event in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{body}END:VCALENDAR\r\n"


def unmatched_events(count: int) -> list[str]:
    return [
        f"UID:lunch-{n}@example.com\r\nSUMMARY:Lunch {n}\r\n"
        f"DTSTART:{NEXT_YEAR}0301T{n // 60 % 24:02d}{n % 60:02d}00Z\r\n"
        "ATTENDEE:mailto:someone@unknown-prospect.example"
        for n in range(count)
    ]


def test_a_calendar_of_5001_events_is_refused_naming_the_limit(alice_client, acme):
    events = [
        f"UID:e{n}\r\nDTSTART:{NEXT_YEAR}0101T100000Z\r\nATTENDEE:mailto:d@acme.example"
        for n in range(5001)
    ]

    response = upload(alice_client, calendar_of(events))

    assert response.status_code == 200
    assert "This file has 5,001 events; the import reads at most 5,000." in (
        response.content.decode()
    )
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (
            "DTSTART:99991231T233000Z",
            "has a DTSTART in the year 9999; the import reads events from 1900 to 2100.",
        ),
        (
            "DTSTART:00010101T000000Z",
            "has a DTSTART in the year 1; the import reads events from 1900 to 2100.",
        ),
        (
            f"DTSTART:{NEXT_YEAR}0101T100000Z\r\nDTEND:99991231T233000Z",
            "has a DTEND in the year 9999",
        ),
        (
            f"DTSTART:{NEXT_YEAR}0101T100000Z\r\nDURATION:P999999999D",
            "lasts 999,999,999 days; the import reads events of at most 31 days.",
        ),
        (
            f"DTSTART:{NEXT_YEAR}0101T100000Z\r\nDURATION:P9999999999D",
            "has a DURATION that is not a length of time.",
        ),
        (
            f"DTSTART:{NEXT_YEAR}0101T100000Z\r\nDURATION:-PT1H",
            "ends before it starts.",
        ),
        (
            f"DTSTART:{NEXT_YEAR}0101T100000Z\r\nDTEND:{NEXT_YEAR}0101T090000Z",
            "ends before it starts.",
        ),
        (
            f"DTSTART;VALUE=DATE:{NEXT_YEAR}0105\r\nDTEND;VALUE=DATE:{NEXT_YEAR}0101",
            "ends before it starts.",
        ),
        (
            f"DTSTART:{NEXT_YEAR}0101T100000Z\r\nDTEND:{NEXT_YEAR}0301T100000Z",
            "lasts 59 days; the import reads events of at most 31 days.",
        ),
        ("DTSTART:2030XXXX", "has a DTSTART that is not a date."),
    ],
)
def test_an_event_with_dates_out_of_range_is_refused_naming_it(alice_client, acme, dates, message):
    good = (
        f"UID:good\r\nSUMMARY:Fine\r\nDTSTART:{NEXT_YEAR}0101T100000Z\r\n"
        "ATTENDEE:mailto:d@acme.example"
    )
    bad = f"UID:bad\r\nSUMMARY:Far away\r\n{dates}\r\nATTENDEE:mailto:d@acme.example"

    response = upload(alice_client, calendar_of([good, bad]))

    assert response.status_code == 200
    assert f"The event “Far away” {message}" in response.content.decode()
    assert not Call.objects.exists()  # the whole file is refused: nothing changes


def test_the_result_lists_at_most_100_calls_and_points_to_my_calls(alice_client, acme):
    events = [
        f"UID:c{n}\r\nSUMMARY:Call {n}\r\nDTSTART:{NEXT_YEAR}0101T100000Z\r\n"
        "ATTENDEE:mailto:d@acme.example"
        for n in range(120)
    ]

    response = upload(alice_client, calendar_of(events))

    assert Call.objects.count() == 120
    assert len(response.context["imported_shown"]) == 100
    assert "And 20 more" in response.content.decode()


def test_events_to_assign_are_stored_and_shown_100_a_page(alice_client, acme):
    upload(alice_client, calendar_of(unmatched_events(250)))
    pending = CalendarImport.objects.get()
    url = reverse("callprep:calendar_assign", args=[pending.pk])

    third = alice_client.get(url, {"page": "3"})

    assert len(pending.events) == 250
    assert [event.summary for _, event, _ in third.context["assign_form"].rows()] == [
        f"Lunch {n}" for n in range(200, 250)
    ]
    assert "Page 3 of 3" in third.content.decode()


def test_the_assign_page_costs_the_same_queries_for_3_events_as_for_250(
    alice_client, acme, django_assert_max_num_queries
):
    upload(alice_client, calendar_of(unmatched_events(3)))
    small = reverse("callprep:calendar_assign", args=[CalendarImport.objects.get().pk])
    with django_assert_max_num_queries(12) as small_queries:
        alice_client.get(small)
    small_count = len(small_queries)  # read now: the next request resets the log
    CalendarImport.objects.all().delete()
    upload(alice_client, calendar_of(unmatched_events(250)))
    large = reverse("callprep:calendar_assign", args=[CalendarImport.objects.get().pk])

    with django_assert_max_num_queries(small_count):
        response = alice_client.get(large)

    assert len(response.context["assign_form"].events) == 100


def test_submitting_a_page_of_events_brings_up_the_next(alice_client, acme):
    upload(alice_client, calendar_of(unmatched_events(150)))
    pending = CalendarImport.objects.get()
    url = reverse("callprep:calendar_assign", args=[pending.pk])
    first = alice_client.get(url).context["assign_form"]
    data = dict.fromkeys(first.fields, "") | {"event_0": acme.pk}

    response = alice_client.post(url, data)

    assert response.status_code == 302
    assert response["Location"] == url
    assert Call.objects.get().title == "Lunch 0"
    pending.refresh_from_db()
    assert [event["n"] for event in pending.events] == list(range(100, 150))
    rest = alice_client.get(url).context["assign_form"]
    alice_client.post(url, dict.fromkeys(rest.fields, "") | {"event_149": acme.pk})
    assert Call.objects.count() == 2
    assert not CalendarImport.objects.exists()


def test_an_import_kept_before_its_events_were_stored_still_opens(alice_client, alice, acme):
    pending = CalendarImport.objects.create(  # as migration 0015 left it
        user=alice, filename="old.ics", content=calendar_of(unmatched_events(2)), state="done"
    )

    response = alice_client.get(reverse("callprep:calendar_assign", args=[pending.pk]))

    assert "Lunch 1" in response.content.decode()
    pending.refresh_from_db()
    assert len(pending.events) == 2


def test_a_chosen_account_stays_selected_when_the_page_comes_back_with_an_error(
    alice_client, acme, westwind
):
    upload(alice_client, calendar_of(unmatched_events(2)))
    url = reverse("callprep:calendar_assign", args=[CalendarImport.objects.get().pk])

    response = alice_client.post(url, {"event_0": acme.pk, "event_1": westwind.pk})

    html = response.content.decode()
    first = html[html.index('name="event_0"') : html.index('name="event_1"')]
    assert f'<option value="{acme.pk}" selected>' in first
    assert not Call.objects.exists()


# --- The import runs in the worker ----------------------------------------------------------


def matched_events(count: int) -> list[str]:
    return [
        f"UID:m{n}\r\nSUMMARY:Call {n}\r\nDTSTART:{NEXT_YEAR}0101T10{n % 60:02d}00Z\r\n"
        "ATTENDEE:mailto:d@acme.example"
        for n in range(count)
    ]


def preview_calendar(client, text: str):
    return client.post(
        reverse("callprep:calendar_import"),
        {"file": SimpleUploadedFile("calendar.ics", text.encode(), "text/calendar")},
    )


def post_calendar(client, text: str, people=()):
    """Upload and press "Import" on the preview: the import is queued for the worker."""
    response = preview_calendar(client, text)
    assert response.status_code == 302
    pressed = client.post(response.url, {"action": "import", "person": list(people)})
    assert pressed.status_code == 302
    return response


def test_import_only_queues_the_import_and_its_page_shows_progress(alice_client, acme):
    response = post_calendar(alice_client, calendar_of(matched_events(3)))

    pending = CalendarImport.objects.get()
    url = reverse("callprep:calendar_assign", args=[pending.pk])
    assert response.status_code == 302 and response.url == url
    assert not Call.objects.exists()  # the request only parsed and kept the file
    assert (pending.state, pending.event_count, pending.events_done) == ("queued", 3, 0)
    html = alice_client.get(url).content.decode()
    assert "0 of 3 events imported (waiting for the worker)" in html
    assert f'<a href="{url}" hx-get="{url}" hx-trigger="every 2s"' in html  # and without JS
    polled = alice_client.get(url, headers={"HX-Request": "true"})
    assert 'id="import-progress"' in polled.content.decode()
    assert "HX-Refresh" not in polled


def test_the_worker_imports_in_batches_and_records_each_one(
    alice_client, acme, settings, monkeypatch
):
    settings.ICS_IMPORT_BATCH_EVENTS = 2
    post_calendar(alice_client, calendar_of(matched_events(4) + unmatched_events(1)))
    pending = CalendarImport.objects.get()
    seen = []
    original = services.import_event_batch

    def watch(pending, batch):
        original(pending, batch)
        stored = CalendarImport.objects.get(pk=pending.pk)
        seen.append((Call.objects.count(), stored.events_done, len(stored.events)))

    monkeypatch.setattr(services, "import_event_batch", watch)  # it still imports: it watches

    assert tasks.import_calendar_upload.run(pending.pk) is True

    assert seen == [(2, 2, 0), (4, 4, 0), (4, 5, 1)]
    pending.refresh_from_db()
    assert (pending.state, pending.created_count, pending.parsed) == ("done", 4, [])
    url = reverse("callprep:calendar_assign", args=[pending.pk])
    done = alice_client.get(url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"  # the polling page reloads to show the result
    html = alice_client.get(url).content.decode()
    assert "4 new calls, 0 updated, 1 meeting to assign." in html
    assert "Lunch 0" in html


def test_running_the_import_task_twice_imports_once(alice_client, acme):
    post_calendar(alice_client, calendar_of(matched_events(3)))
    pk = CalendarImport.objects.get().pk

    assert tasks.import_calendar_upload.run(pk) is True
    assert tasks.import_calendar_upload.run(pk) is False

    assert Call.objects.count() == 3
    assert CalendarImport.objects.get().created_count == 3


def test_an_import_that_stopped_goes_on_where_it_stopped(alice_client, acme, settings, monkeypatch):
    settings.ICS_IMPORT_BATCH_EVENTS = 2
    post_calendar(alice_client, calendar_of(matched_events(5)))
    pending = CalendarImport.objects.get()
    url = reverse("callprep:calendar_assign", args=[pending.pk])
    original, batches = services.import_event_batch, []

    def fail_the_second(pending, batch):
        batches.append(batch)
        if len(batches) == 2:
            raise RuntimeError("the database went away")
        original(pending, batch)

    monkeypatch.setattr(services, "import_event_batch", fail_the_second)
    tasks.import_calendar_upload.run(pending.pk)

    pending.refresh_from_db()
    assert (pending.state, pending.events_done, Call.objects.count()) == ("failed", 2, 2)
    html = alice_client.get(url).content.decode()
    assert "The import stopped after 2 events" in html and "Go on importing" in html

    monkeypatch.setattr(services, "import_event_batch", original)
    assert alice_client.post(url).status_code == 302
    assert CalendarImport.objects.get().state == "queued"
    tasks.import_calendar_upload.run(pending.pk)

    pending.refresh_from_db()
    assert (pending.state, pending.events_done, pending.created_count) == ("done", 5, 5)
    assert sorted(Call.objects.values_list("ical_uid", flat=True)) == [f"m{n}" for n in range(5)]


def test_an_import_whose_worker_died_is_shown_stalled_and_taken_up_again(alice_client, acme):
    post_calendar(alice_client, calendar_of(matched_events(2)))
    pending = CalendarImport.objects.get()
    three_minutes_ago = timezone.now() - dt.timedelta(minutes=3)
    CalendarImport.objects.filter(pk=pending.pk).update(
        state="running", progress_at=three_minutes_ago
    )
    url = reverse("callprep:calendar_assign", args=[pending.pk])

    assert "The import seems to have stopped" in alice_client.get(url).content.decode()
    assert tasks.import_calendar_upload.run(pending.pk) is True  # the redelivered task

    assert CalendarImport.objects.get().state == "done"
    assert Call.objects.count() == 2


def test_pressing_go_on_while_it_runs_queues_nothing_more(alice_client, acme):
    post_calendar(alice_client, calendar_of(matched_events(2)))
    pending = CalendarImport.objects.get()
    url = reverse("callprep:calendar_assign", args=[pending.pk])

    response = alice_client.post(url, follow=True)
    again = alice_client.post(url, {"action": "import"}, follow=True)

    assert "is already being imported" in response.content.decode()
    assert "is already being imported" in again.content.decode()
    assert CalendarImport.objects.get().state == "queued"


def test_an_event_a_call_cannot_hold_is_skipped_with_the_reason(alice_client, acme):
    bad = (
        f"UID:bad-link\r\nSUMMARY:Broken link\r\nDTSTART:{NEXT_YEAR}0102T100000Z\r\n"
        "URL:https://exa mple.com/x\r\nATTENDEE:mailto:d@acme.example"
    )

    html = upload(alice_client, calendar_of([*matched_events(1), bad])).content.decode()

    assert "Skipped “Broken link”: Enter a valid URL." in html
    assert list(Call.objects.values_list("ical_uid", flat=True)) == ["m0"]


def test_a_new_upload_clears_the_users_finished_imports_but_keeps_events_to_assign(
    alice_client, acme
):
    upload(alice_client, calendar_of(matched_events(1)))
    upload(alice_client, calendar_of(unmatched_events(1)))
    waiting = CalendarImport.objects.get()

    upload(alice_client, calendar_of(matched_events(2)))

    assert waiting in CalendarImport.objects.all()  # its meeting is still to assign
    assert CalendarImport.objects.count() == 2


# --- Repeating events -----------------------------------------------------------------------

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def weekly_series(first: dt.datetime, extra: str = "") -> str:
    return (
        f"UID:weekly@acme.example\r\nSUMMARY:Acme weekly sync\r\n"
        f"DTSTART;TZID=Europe/Berlin:{first:%Y%m%dT%H%M%S}\r\n"
        f"DTEND;TZID=Europe/Berlin:{first + dt.timedelta(minutes=45):%Y%m%dT%H%M%S}\r\n"
        f"RRULE:FREQ=WEEKLY{extra}\r\nATTENDEE:mailto:d@acme.example"
    )


def a_year_ago_at_ten() -> dt.datetime:
    day = (timezone.now() - dt.timedelta(weeks=52)).astimezone(BERLIN).date()
    return dt.datetime.combine(day, dt.time(10), tzinfo=BERLIN)


def test_a_weekly_series_imports_its_next_occurrence_not_its_first(alice_client, acme):
    first = a_year_ago_at_ten()
    expected = first
    while expected < timezone.now():  # wall-clock weeks: 10:00 in Berlin, summer or winter
        expected += dt.timedelta(weeks=1)

    upload(alice_client, calendar_of([weekly_series(first)]))

    call = Call.objects.get()
    assert call.starts_at == expected
    assert (call.local_start.hour, call.local_start.weekday()) == (10, first.weekday())
    assert call.ends_at - call.starts_at == dt.timedelta(minutes=45)
    assert call.kind == "other"


def test_an_excluded_occurrence_is_passed_over(alice_client, acme):
    first = a_year_ago_at_ten()
    following = first
    while following < timezone.now():
        following += dt.timedelta(weeks=1)
    skipped = following
    exdate = f"\r\nEXDATE;TZID=Europe/Berlin:{skipped:%Y%m%dT%H%M%S}"

    upload(alice_client, calendar_of([weekly_series(first) + exdate]))

    assert Call.objects.get().starts_at == skipped + dt.timedelta(weeks=1)


def test_a_finished_series_imports_its_last_occurrence(alice_client, acme):
    first = a_year_ago_at_ten()

    upload(alice_client, calendar_of([weekly_series(first, ";COUNT=3")]))

    assert Call.objects.get().starts_at == first + dt.timedelta(weeks=2)


def test_a_series_with_an_until_in_utc_ends_there(alice_client, acme):
    first = a_year_ago_at_ten()
    until = (first + dt.timedelta(weeks=4, hours=1)).astimezone(dt.UTC)

    upload(alice_client, calendar_of([weekly_series(first, f";UNTIL={until:%Y%m%dT%H%M%SZ}")]))

    assert Call.objects.get().starts_at == first + dt.timedelta(weeks=4)


def test_a_series_too_dense_to_expand_is_refused_naming_it(alice_client, acme, settings):
    settings.ICS_IMPORT_MAX_OCCURRENCES = 1_000
    dense = (
        "UID:dense\r\nSUMMARY:Every second\r\nDTSTART:20200101T000000Z\r\n"
        "RRULE:FREQ=SECONDLY\r\nATTENDEE:mailto:d@acme.example"
    )

    response = upload(alice_client, calendar_of([dense]))

    assert response.status_code == 200
    assert "The event “Every second” repeats too often, or since too long ago" in (
        response.content.decode()
    )
    assert not Call.objects.exists() and not CalendarImport.objects.exists()


# --- The preview ----------------------------------------------------------------------------


def test_the_preview_says_what_each_event_would_do_and_saves_nothing(alice_client, acme, westwind):
    taken = (
        f"UID:taken@x\r\nSUMMARY:Westwind sync\r\nDTSTART:{NEXT_YEAR}0105T100000Z\r\n"
        "ATTENDEE:mailto:d@acme.example"
    )
    Call.objects.create(
        account=westwind,
        owner=westwind.owner,
        title="Theirs",
        ical_uid="taken@x",
        starts_at=timezone.now() + dt.timedelta(days=9),
        ends_at=timezone.now() + dt.timedelta(days=9, hours=1),
    )
    upload(alice_client, calendar_of(matched_events(1)))  # m0 exists now: an update
    before = Call.objects.count()

    response = preview_calendar(
        alice_client, calendar_of(matched_events(3) + unmatched_events(2) + [taken])
    )

    html = alice_client.get(response.url).content.decode()
    assert Call.objects.count() == before
    assert CalendarImport.objects.filter(state="preview").count() == 1
    assert (
        "<strong>2</strong> new calls,\n     <strong>1</strong> update,\n"
        "     <strong>2</strong> meetings to assign"
    ) in html
    assert "<strong>1</strong> skipped" in html
    assert "new call</span> with Acme" in html and "update</span> the call with Acme" in html
    assert "already in SalesPrep for someone else" in html


def test_the_preview_shows_times_in_the_events_own_zone(alice_client, acme):
    event = (
        f"UID:tokyo\r\nSUMMARY:Tokyo review\r\nDTSTART;TZID=Asia/Tokyo:{NEXT_YEAR}0310T090000\r\n"
        f"DTEND;TZID=Asia/Tokyo:{NEXT_YEAR}0310T100000\r\nATTENDEE:mailto:d@acme.example"
    )

    response = preview_calendar(alice_client, calendar_of([event]))

    html = alice_client.get(response.url).content.decode()
    assert "09:00" in html and "Asia/Tokyo" in html
    assert "UTC" not in html.split('id="events-heading"')[1]


def test_cancel_drops_the_upload(alice_client, acme):
    response = preview_calendar(alice_client, calendar_of(matched_events(2)))

    cancelled = alice_client.post(response.url, {"action": "cancel"})

    assert cancelled.status_code == 302
    assert not CalendarImport.objects.exists() and not Call.objects.exists()


def test_an_attendee_not_yet_a_stakeholder_is_offered_and_added_when_ticked(
    alice_client, acme, dana
):
    event = (
        f"UID:offer\r\nSUMMARY:Acme pricing\r\nDTSTART:{NEXT_YEAR}0110T100000Z\r\n"
        "ATTENDEE;CN=Dana Buyer:mailto:dana@acme.example\r\n"
        'ATTENDEE;CN="Sam New":mailto:sam.new@eu.acme.example\r\n'
        "ATTENDEE;CN=Somebody Else:mailto:else@unknown-prospect.example\r\n"
        "ATTENDEE:mailto:alice@example.com"
    )
    response = preview_calendar(alice_client, calendar_of([event]))
    html = alice_client.get(response.url).content.decode()
    key = f"{acme.pk}:sam.new@eu.acme.example"

    assert f'name="person" value="{key}"' in html
    assert "Sam New &lt;sam.new@eu.acme.example&gt;" in html
    assert "dana@acme.example&gt;" not in html  # a stakeholder already
    assert "else@unknown-prospect.example" not in html.split("</fieldset>")[0]  # not Acme's
    assert "alice@example.com" not in html.split("</fieldset>")[0]

    alice_client.post(response.url, {"action": "import", "person": [key, f"{acme.pk}:x@evil"]})
    tasks.import_calendar_upload.run(CalendarImport.objects.get().pk)

    sam = Contact.objects.get(email="sam.new@eu.acme.example")
    assert (sam.account, sam.name) == (acme, "Sam New")
    assert not Contact.objects.filter(email="x@evil").exists()  # not offered: ignored
    call = Call.objects.get(ical_uid="offer")
    assert set(call.contacts.values_list("email", flat=True)) == {
        "dana@acme.example",
        "sam.new@eu.acme.example",
    }


def test_an_attendee_left_unticked_is_not_added(alice_client, acme):
    event = (
        f"UID:offer\r\nSUMMARY:Acme pricing\r\nDTSTART:{NEXT_YEAR}0110T100000Z\r\n"
        "ATTENDEE;CN=Sam:mailto:sam@acme.example"
    )

    upload(alice_client, calendar_of([event]))

    assert not Contact.objects.filter(email="sam@acme.example").exists()
    assert Call.objects.get(ical_uid="offer").contacts.count() == 0


def test_the_previews_queries_do_not_grow_with_its_events(
    alice_client, acme, django_assert_max_num_queries
):
    with django_assert_max_num_queries(60):
        response = preview_calendar(
            alice_client, calendar_of(matched_events(300) + unmatched_events(300))
        )

    assert response.status_code == 302
    assert CalendarImport.objects.get().planned("create") == 300

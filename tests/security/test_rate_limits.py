"""Costly endpoints answer 429 with a Retry-After once a user goes over their limit: the CRM
CSV import, the calendar (.ics) import and the evidence refresh (accounts/ratelimit.py)."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import ImportFile
from callprep.models import CalendarImport, Call
from tests.accounts.conftest import htmx
from tests.helpers import import_calendar

CSV_URL = reverse("accounts:import")
ICS_URL = reverse("callprep:calendar_import")


def csv_file(n: int = 0) -> SimpleUploadedFile:
    body = f"name,website\nGlobex {n},https://globex{n}.example\n".encode()
    return SimpleUploadedFile(f"accounts-{n}.csv", body, content_type="text/csv")


def ics_file(n: int = 0) -> SimpleUploadedFile:
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:rate-limit-{n}@example.com\r\nDTSTAMP:20300101T000000Z\r\n"
        f"DTSTART:2030010{n % 9 + 1}T150000Z\r\nDTEND:2030010{n % 9 + 1}T160000Z\r\n"
        f"SUMMARY:Pilot review {n}\r\nATTENDEE;CN=Dana:mailto:dana@acme.example\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    return SimpleUploadedFile(f"cal-{n}.ics", body, content_type="text/calendar")


def upload_csv(client, n: int = 0):
    return client.post(CSV_URL, {"file": csv_file(n)})


def upload_ics(client, n: int = 0):
    upload = ics_file(n)
    return import_calendar(client, upload.read(), upload.name)


def assert_refused(response, *, action: str) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    page = response.content.decode()
    assert "You have uploaded too many files in a short time" in page
    assert "Nothing was imported; try again in" in page
    assert f'action="{action}"' in page and 'type="file"' in page  # the form, shown again


@pytest.fixture
def limits(settings):
    settings.REQUEST_RATE_LIMITS = {"csv_import": (2, 600), "ics_import": (2, 600)}
    return settings


def test_the_csv_import_answers_429_after_the_limit_and_writes_nothing(client, alice, limits):
    client.force_login(alice)
    assert upload_csv(client, 1).status_code == 302
    assert upload_csv(client, 2).status_code == 302
    stored = ImportFile.objects.get(user=alice)

    response = upload_csv(client, 3)

    assert_refused(response, action=CSV_URL)
    assert "2 per 10 minutes" in response.content.decode()
    assert list(ImportFile.objects.all()) == [stored]  # neither replaced nor added
    assert stored.filename == "accounts-2.csv"


def test_the_default_csv_limit_is_ten_uploads_per_ten_minutes(client, alice):
    client.force_login(alice)
    for n in range(10):
        assert upload_csv(client, n).status_code == 302, n
    assert_refused(upload_csv(client, 10), action=CSV_URL)


def test_the_limit_is_per_user(client, alice, bob, limits):
    client.force_login(alice)
    for n in range(3):
        upload_csv(client, n)
    assert upload_csv(client, 4).status_code == 429
    client.force_login(bob)
    assert upload_csv(client, 5).status_code == 302
    assert ImportFile.objects.filter(user=bob).count() == 1


def test_a_form_without_a_file_is_not_counted(client, alice, limits):
    client.force_login(alice)
    for _ in range(3):
        assert client.post(CSV_URL, {}).status_code == 200
    assert upload_csv(client).status_code == 302


def test_the_limit_resets_when_the_window_closes(client, alice, settings):
    settings.REQUEST_RATE_LIMITS = {"csv_import": (1, 1)}
    client.force_login(alice)
    assert upload_csv(client, 1).status_code == 302
    refused = upload_csv(client, 2)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    time.sleep(1.2)
    assert upload_csv(client, 3).status_code == 302
    assert ImportFile.objects.get(user=alice).filename == "accounts-3.csv"


def test_no_limit_when_the_setting_switches_it_off(client, alice, settings):
    settings.REQUEST_RATE_LIMITS = {"csv_import": None}
    client.force_login(alice)
    for n in range(12):
        assert upload_csv(client, n).status_code == 302


def test_the_calendar_import_answers_429_after_the_limit_and_writes_nothing(
    client, alice, acme, limits
):
    client.force_login(alice)
    assert upload_ics(client, 1).status_code == 200
    assert upload_ics(client, 2).status_code == 200
    assert Call.objects.filter(account=acme).count() == 2  # allowed uploads do write
    kept = list(CalendarImport.objects.values_list("pk", flat=True))

    response = upload_ics(client, 3)

    assert_refused(response, action=ICS_URL)
    assert Call.objects.count() == 2
    assert not Call.objects.filter(ical_uid="rate-limit-3@example.com").exists()
    assert list(CalendarImport.objects.values_list("pk", flat=True)) == kept


def test_the_calendar_limit_is_apart_from_the_csv_limit(client, alice, acme, limits):
    client.force_login(alice)
    for n in range(3):
        upload_csv(client, n)
    assert upload_csv(client, 3).status_code == 429
    assert upload_ics(client, 1).status_code == 200


def test_an_evidence_refresh_refused_in_the_panel_also_says_when_to_retry(client, alice, acme):
    client.force_login(alice)
    url = reverse("evidence:refresh", args=[acme.pk])
    assert client.post(url, **htmx()).status_code == 200
    again = client.post(url, **htmx())
    assert again.status_code == 429
    assert 0 < int(again["Retry-After"]) <= 60
    assert "try again in" in again.content.decode()

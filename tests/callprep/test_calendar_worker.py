"""A real Celery worker on Redis imports an uploaded calendar end to end."""

import pytest
from django.urls import reverse

from callprep.models import CalendarImport, Call
from tests.callprep.test_calendar import (
    calendar_of,
    matched_events,
    post_calendar,
    unmatched_events,
)
from tests.callprep.test_worker_integration import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

__all__ = ["celery_worker"]


def test_the_worker_imports_an_uploaded_calendar_and_the_page_shows_it_done(
    celery_worker, alice_client, acme
):
    response = post_calendar(alice_client, calendar_of(matched_events(30) + unmatched_events(3)))

    assert response.status_code == 302
    assert wait_for(lambda: CalendarImport.objects.get().state == "done", timeout=30)
    pending = CalendarImport.objects.get()
    assert (pending.events_done, pending.created_count, len(pending.events)) == (33, 30, 3)
    assert Call.objects.filter(account=acme).count() == 30
    html = alice_client.get(reverse("callprep:calendar_assign", args=[pending.pk])).content
    assert "30 new calls, 0 updated, 3 meetings to assign." in html.decode()

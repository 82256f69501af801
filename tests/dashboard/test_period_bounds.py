"""The dashboard's period is bounded: days from 2000 to 2099, at most two years long.

A day outside that range, or a longer period, is named on the page and the dashboard shows its
default period instead (no work over centuries, no overflow); a CSV refuses it with 400.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from django.urls import reverse

from callprep.dashboard import metrics

pytestmark = pytest.mark.django_db

DASH = "callprep:dashboard"
HX = {"HTTP_HX_REQUEST": "true"}


def get(client, user, name=DASH, headers=None, **params):
    client.force_login(user)
    return client.get(reverse(name), params, **(headers or {}))


def shown_period(response) -> tuple[date, date]:
    scope = response.context["scope"]
    return scope.start, scope.end


def test_the_review_s_far_dates_show_the_default_period_with_a_message(client, mallory, live_known):
    for headers in (None, HX):
        started = time.monotonic()
        response = get(client, mallory, start="0001-01-01", end="9999-12-31", headers=headers)
        assert time.monotonic() - started < 5
        assert response.status_code == 200
        assert shown_period(response) == metrics.default_period()
        body = response.content.decode()
        assert "From: Choose a day from 1 Jan 2000 to 31 Dec 2099. This filter was ignored." in body
        assert "To: Choose a day from 1 Jan 2000 to 31 Dec 2099. This filter was ignored." in body


def test_a_period_longer_than_two_years_shows_the_default_period_with_a_message(
    client, mallory, live_known
):
    start = date(2024, 1, 1)
    end = start + timedelta(days=metrics.MAX_PERIOD_DAYS)  # one day too many
    response = get(client, mallory, start=start.isoformat(), end=end.isoformat())
    assert response.status_code == 200
    assert shown_period(response) == metrics.default_period()
    assert b"A period can be at most two years (731 days)." in response.content


def test_a_far_start_alone_cannot_stretch_the_period_to_today(client, mallory, live_known):
    response = get(client, mallory, start="2000-01-01")
    assert shown_period(response) == metrics.default_period()
    assert b"A period can be at most two years" in response.content


def test_a_two_year_period_is_shown_without_a_message(client, mallory, live_known):
    start = date(2024, 1, 1)
    end = start + timedelta(days=metrics.MAX_PERIOD_DAYS - 1)
    response = get(client, mallory, start=end.isoformat(), end=start.isoformat())  # swapped
    assert shown_period(response) == (start, end)
    assert b"form-errors" not in response.content


@pytest.mark.parametrize("start", ["not-a-date", "2024-02-30", "0001-01-01", "10000-01-01"])
def test_a_bad_day_is_named_on_the_drill_down_and_refused_by_its_csv(
    client, mallory, live_known, start
):
    page = get(client, mallory, "callprep:dashboard:calls", measure="calls", start=start)
    assert page.status_code == 200
    assert shown_period(page) == metrics.default_period()
    assert b"This filter was ignored." in page.content
    for name in ("callprep:dashboard:calls_csv", "callprep:dashboard:reps_csv"):
        download = get(client, mallory, name, measure="calls", start=start)
        assert download.status_code == 400
        assert b"This filter was ignored." in download.content

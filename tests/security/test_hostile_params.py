"""Integer parameters a user can edit: never a 500, always a clear answer.

A filter of a list (accounts, dashboard, drill-down, review queue) with a value that can name no
row is ignored, and the page says so next to its filters (with and without htmx); a download
refuses it with 400 and the same sentence; a parameter that names one object (the account of a
new call, the brief of an evidence panel or of a citation, the comment a reply answers) answers
404, as a bad id in the path does; a posted section version that is not one is a missing
version (400); an attendee that cannot exist is a form error. The values: beyond 64 bits, just
beyond the largest id, negative, a word, a superscript digit (``str.isdigit`` accepts it,
``int`` does not), and a 5,000-digit number.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from callprep.evidence.models import Citation
from callprep.models import Call
from callprep.review.models import SectionComment
from tests.callprep.test_calls import call_data

BAD = [
    "99999999999999999999999",
    str(2**63),
    "-5",
    "abc",
    "²",
    "9" * 5000,
]
IGNORED = b"This filter was ignored."
HX = {"HTTP_HX_REQUEST": "true"}

# (who, url name, parameter, what the page still shows when the filter is ignored)
FILTERS = [
    ("ada", "accounts:list", "owner", b"Acme Fictional Corp"),
    ("ada", "accounts:list", "team", b"Acme Fictional Corp"),
    ("mallory", "callprep:dashboard", "team", b"Calls from"),
    ("mallory", "callprep:dashboard", "rep", b"Calls from"),
    ("ada", "callprep:dashboard", "team", b"Calls from"),
    ("victor", "callprep:review_queue", "team", b"Executive visit at Acme"),
]


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize(("who", "name", "param", "still_shown"), FILTERS)
def test_a_bad_id_filter_is_ignored_with_a_message_with_and_without_htmx(
    world, who, name, param, still_shown, value
):
    client = client_for(world.users[who])
    for headers in ({}, HX):
        response = client.get(reverse(name), {param: value}, **headers)
        assert response.status_code == 200, (name, param, value, headers)
        assert IGNORED in response.content
        assert still_shown in response.content


@pytest.mark.parametrize("value", BAD)
def test_a_drill_down_ignores_a_bad_rep_and_its_csv_refuses_it_with_400(world, value):
    client = client_for(world.users["mallory"])
    page = client.get(reverse("callprep:dashboard:calls"), {"measure": "calls", "rep": value})
    assert page.status_code == 200
    assert IGNORED in page.content
    for name in ("callprep:dashboard:calls_csv", "callprep:dashboard:reps_csv"):
        download = client.get(reverse(name), {"measure": "calls", "rep": value})
        assert download.status_code == 400
        assert IGNORED in download.content


def test_a_valid_filter_still_applies_next_to_an_ignored_one(world):
    client = client_for(world.users["ada"])
    response = client.get(reverse("accounts:list"), {"owner": "abc", "q": "Nothing like it"})
    assert IGNORED in response.content
    assert b"Acme Fictional Corp" not in response.content  # the search still applies


def test_a_good_filter_shows_no_message(world):
    client = client_for(world.users["ada"])
    response = client.get(reverse("accounts:list"), {"owner": world.users["alice"].pk})
    assert b"Acme Fictional Corp" in response.content
    assert IGNORED not in response.content


@pytest.mark.parametrize("value", BAD)
def test_a_new_call_for_an_account_that_cannot_exist_is_404(world, value):
    response = client_for(world.users["alice"]).get(
        reverse("callprep:call_create"), {"account": value}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("value", BAD)
def test_an_evidence_panel_for_a_brief_that_cannot_exist_is_404(world, value):
    url = reverse("evidence:panel", args=[world.account.pk])
    for headers in ({}, HX):
        response = client_for(world.users["alice"]).get(url, {"brief": value}, **headers)
        assert response.status_code == 404


@pytest.mark.parametrize("value", BAD)
def test_a_reply_to_a_comment_that_cannot_exist_is_404_and_posts_nothing(world, value):
    before = SectionComment.objects.count()
    response = client_for(world.users["victor"]).post(
        reverse("briefs:comments", args=[world.brief.pk]),
        {"section": "business_challenges", "body": "A reply", "parent": value},
    )
    assert response.status_code == 404
    assert SectionComment.objects.count() == before


@pytest.mark.parametrize("value", BAD)
def test_citing_into_a_brief_that_cannot_exist_is_404_and_cites_nothing(world, value):
    before = Citation.objects.count()
    response = client_for(world.users["alice"]).post(
        reverse("evidence:cite", args=[world.evidence.pk]),
        {"brief": value, "section": "financial_condition"},
    )
    assert response.status_code == 404
    assert Citation.objects.count() == before


@pytest.mark.parametrize("value", BAD)
def test_a_section_saved_with_a_version_that_cannot_exist_is_a_bad_request(world, value):
    section = world.brief.sections.get(key="business_challenges")
    response = client_for(world.users["alice"]).post(
        reverse("briefs:section", args=[world.brief.pk, section.key]),
        {"text": "Overwritten?", "base_version": value},
    )
    assert response.status_code == 400
    section.refresh_from_db()
    assert "Overwritten?" not in section.plain_text()


@pytest.mark.parametrize("value", BAD)
def test_a_call_with_an_attendee_that_cannot_exist_is_a_form_error(world, value):
    before = Call.objects.count()
    response = client_for(world.users["alice"]).post(
        reverse("callprep:call_create"), call_data(world.account, contacts=[value])
    )
    assert response.status_code == 200
    assert "is not a valid value." in response.content.decode()
    assert Call.objects.count() == before

"""My visits: the executive's upcoming calls, scoped to the calls they join and may read, with
the due time, states and completeness the one-place rules give."""

from __future__ import annotations

import html
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from callprep import timefmt, workflow
from callprep.briefs import services
from callprep.briefs.models import Brief, BriefStatus, due_at_for
from callprep.models import Call, CallStatus
from tests.review.conftest import fill

pytestmark = pytest.mark.django_db


def cards(page: str) -> dict[int, str]:
    """The visit cards of a page by call id, each as its HTML."""
    found = re.findall(r'data-call="(\d+)">(.*?)</li>', page, flags=re.S)
    return {int(pk): body for pk, body in found}


def shown(card: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:span|dd|p)>', card, flags=re.S)
    assert match, f"no {testid} in the card"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def visits_page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("callprep:my_visits"))
    assert response.status_code == 200
    return response.content.decode()


def test_my_visits_lists_the_calls_the_executive_joins_and_no_other(
    client, call, acme, make_call, victor, vera
):
    other_executive = make_call(acme, executive=vera, title="Vera's visit")
    no_executive = make_call(acme, title="Rep alone")
    page = visits_page(client, victor)
    assert set(cards(page)) == {call.pk}
    assert "Vera's visit" not in page and "Rep alone" not in page
    assert set(cards(visits_page(client, vera))) == {other_executive.pk}
    assert no_executive.pk not in cards(visits_page(client, vera))


def test_a_sales_leader_who_reads_every_call_sees_only_the_visits_she_joins(
    client, call, acme, make_call, make_user, vera
):
    leader = make_user("vp", "Executive", "Sales leader")
    own = make_call(acme, executive=leader, title="Her own visit")
    assert Call.objects.visible_to(leader).filter(pk=call.pk).exists()  # she may read it
    assert set(cards(visits_page(client, leader))) == {own.pk}


def test_a_call_the_executive_may_not_read_is_not_a_visit(client, call, victor):
    """``visible_to`` comes first: an executive whose account is switched off reads nothing."""
    victor.is_active = False
    victor.save(update_fields=["is_active"])
    from callprep import visits

    assert visits.visits(victor) == []
    assert not Call.objects.visible_to(victor).exists()


def test_past_and_cancelled_calls_are_not_visits(client, acme, make_call, victor):
    past = make_call(acme, executive=victor, days=-1, title="Yesterday")
    cancelled = make_call(acme, executive=victor, title="Called off", status=CallStatus.CANCELLED)
    ahead = make_call(acme, executive=victor, days=9, title="Later")
    soon = make_call(acme, executive=victor, days=1, title="Sooner")
    page = visits_page(client, victor)
    assert list(cards(page)) == [soon.pk, ahead.pk]  # the earliest first
    assert past.pk not in cards(page) and cancelled.pk not in cards(page)


@pytest.mark.parametrize("outsider", ["alice", "charlie", "mallory", "nobody"])
def test_people_who_join_no_call_as_executive_get_nothing(client, request, call, outsider):
    client.force_login(request.getfixturevalue(outsider))
    response = client.get(reverse("callprep:my_visits"))
    assert response.status_code == 403
    assert call.title not in response.content.decode()


def test_another_executive_sees_an_empty_list(client, call, vera):
    page = visits_page(client, vera)
    assert cards(page) == {}
    assert call.title not in page
    assert "No upcoming calls name you as the executive joining" in page


def test_times_states_and_completeness_shown_are_the_rules_values(
    client, acme, make_call, alice, victor, settings
):
    settings.BRIEF_DUE_HOURS = 72  # calls in two days are past their due time
    victor.time_zone = "Asia/Tokyo"
    victor.save(update_fields=["time_zone"])
    late = make_call(acme, executive=victor, days=2, title="Late", time_zone="America/Toronto")
    waiting = make_call(acme, executive=victor, days=2, title="Waiting on me")
    approved = make_call(acme, executive=victor, days=8, title="Ready", time_zone="Europe/Paris")
    unstarted = make_call(acme, executive=victor, days=10, title="Nothing yet")
    services.start_brief(late, by=alice, collect_evidence=False)
    for c in (waiting, approved):
        brief = services.start_brief(c, by=alice, collect_evidence=False)
        fill(brief, alice)
        workflow.submit_brief(brief, by=alice)
    from tests.review.conftest import YES

    workflow.approve_brief(Brief.objects.get(call=approved), by=victor, answers=YES)
    workflow.mark_briefed(Brief.objects.get(call=approved), by=victor)

    page = visits_page(client, victor)
    shown_cards = cards(page)
    assert list(shown_cards) == [late.pk, waiting.pk, approved.pk, unstarted.pk]
    now = timezone.now()
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        for c in Call.objects.filter(pk__in=shown_cards).select_related("brief"):
            card = shown_cards[c.pk]
            assert shown(card, "call-time") == timefmt.call_time(c)
            assert shown(card, "due") == timefmt.viewer_time(due_at_for(c.starts_at), "short")
            assert shown(card, "brief-status") == c.brief_status
            brief = Brief.objects.filter(call=c).first()
            expected = brief.completeness_percent if brief else 0
            assert shown(card, "completeness") == f"{expected}%"
            overdue = 'data-testid="overdue"' in card
            assert overdue == c.is_overdue(now)
            assert ('data-testid="on-time"' in card) == bool(brief and brief.is_on_time())
    assert "(America/Toronto)" in shown(shown_cards[late.pk], "call-time")
    assert shown(shown_cards[late.pk], "overdue") == "Overdue: waiting on the rep"
    assert shown(shown_cards[waiting.pk], "overdue") == "Overdue: waiting on you"
    assert shown(shown_cards[approved.pk], "brief-status") == "Approved"
    assert shown(shown_cards[approved.pk], "briefed") == "Yes"
    assert shown(shown_cards[unstarted.pk], "brief-status") == "Not started"
    assert shown(shown_cards[waiting.pk], "completeness") == "100%"
    assert (
        f'href="{reverse("briefs:review", args=[Brief.objects.get(call=waiting).pk])}"'
        in (shown_cards[waiting.pk])
    )
    assert Brief.objects.get(call=approved).status == BriefStatus.APPROVED
    assert " UTC" not in page


def test_the_executive_lands_on_my_visits_and_my_calls_sends_her_there(client, victor):
    client.force_login(victor)
    assert client.get(reverse("home")).url == reverse("callprep:my_visits")
    response = client.get(reverse("callprep:my_calls"))
    assert response.status_code == 302
    assert response.url == reverse("callprep:my_visits")


def test_my_visits_is_in_the_executives_navigation_beside_the_review_queue(client, victor):
    page = visits_page(client, victor)
    labels = re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)', page)
    labels = [label.strip() for label in labels]
    assert labels.index("My visits") + 1 == labels.index("Review queue")
    assert 'href="/visits/" aria-current="page"' in page


def test_a_visit_is_a_card_that_stays_inside_a_phone_screen(client, call, victor):
    page = visits_page(client, victor)
    assert "<table" not in page
    assert 'class="card visit-card' in page


def test_my_visits_takes_a_fixed_number_of_queries(
    client, acme, make_call, alice, victor, django_assert_max_num_queries
):
    for day in range(2, 8):
        c = make_call(acme, executive=victor, days=day, title=f"Visit {day}")
        services.start_brief(c, by=alice, collect_evidence=False)
    client.force_login(victor)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("callprep:my_visits")).status_code == 200

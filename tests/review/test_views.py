"""Review views: POST-only transitions, access for every view, the queue, the executive view,
the diff since approval, comments in the editor, the audit page and notifications."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from callprep import workflow
from callprep.briefs.models import Brief, BriefStatus
from callprep.review.models import EmailMute, Notification, SectionComment
from tests.accounts.conftest import htmx
from tests.briefs.fixtures import hostile_markup
from tests.review.conftest import YES, section, write

pytestmark = pytest.mark.django_db

TRANSITIONS = ["submit", "withdraw", "approve", "request_changes", "briefed"]
READ_VIEWS = ["executive", "changes", "audit", "comments", "detail"]


def sniff_post(**overrides):
    data = {f"sniff-{k}": "yes" for k in YES}
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.parametrize("name", TRANSITIONS)
def test_get_on_a_transition_endpoint_is_405(client, submitted, victor, name):
    client.force_login(victor)
    response = client.get(reverse(f"briefs:{name}", args=[submitted.pk]))
    assert response.status_code == 405
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.SUBMITTED


@pytest.mark.parametrize("name", [*READ_VIEWS, "review", *TRANSITIONS])
def test_outsiders_get_404_on_every_brief_view(client, submitted, charlie, walter, name):
    for outsider in (charlie, walter):
        client.force_login(outsider)
        url = reverse(f"briefs:{name}", args=[submitted.pk])
        response = client.post(url) if name in TRANSITIONS else client.get(url)
        assert response.status_code == 404


@pytest.mark.parametrize("name", READ_VIEWS)
def test_readers_read_every_review_page(client, submitted, bob, mallory, victor, alice, name):
    for reader in (bob, mallory, victor, alice):
        client.force_login(reader)
        assert client.get(reverse(f"briefs:{name}", args=[submitted.pk])).status_code == 200


@pytest.mark.parametrize("name", TRANSITIONS)
def test_read_only_users_get_403_on_every_transition(client, submitted, mallory, name):
    client.force_login(mallory)
    response = client.post(reverse(f"briefs:{name}", args=[submitted.pk]), sniff_post())
    assert response.status_code == 403
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.SUBMITTED


def test_the_rep_cannot_open_the_review_page_or_approve_through_it(client, submitted, alice):
    client.force_login(alice)
    assert client.get(reverse("briefs:review", args=[submitted.pk])).status_code == 403
    response = client.post(reverse("briefs:approve", args=[submitted.pk]), sniff_post())
    assert response.status_code == 403
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.SUBMITTED


def test_submitting_from_the_editor_shows_what_is_missing(client, brief, alice):
    client.force_login(alice)
    response = client.post(reverse("briefs:submit", args=[brief.pk]), follow=True)
    assert any("Complete these required sections" in m for m in messages_of(response))
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.DRAFT


def test_the_rep_submits_from_the_editor(client, complete_brief, alice):
    client.force_login(alice)
    page = client.get(reverse("briefs:edit", args=[complete_brief.pk])).content.decode()
    assert "Submit for review" in page
    response = client.post(reverse("briefs:submit", args=[complete_brief.pk]), follow=True)
    assert "Brief submitted for review." in messages_of(response)
    assert Brief.objects.get(pk=complete_brief.pk).status == BriefStatus.SUBMITTED


def test_the_executive_approves_through_the_sniff_test(client, submitted, victor):
    client.force_login(victor)
    page = client.get(reverse("briefs:review", args=[submitted.pk])).content.decode()
    assert "Has someone on our side met the economic buyer?" in page
    assert "Dana Buyer (CFO)" in page  # the rep's answer next to the question
    response = client.post(
        reverse("briefs:approve", args=[submitted.pk]),
        sniff_post(**{"sniff-paper_process": "no", "sniff-paper_process-note": "Unknown."}),
        follow=True,
    )
    assert "Brief approved with concerns (version 1)." in messages_of(response)
    page = response.content.decode()
    assert "Approved with concerns" in page and "Unknown." in page


def test_a_refused_approval_shows_its_message(client, submitted, victor):
    client.force_login(victor)
    response = client.post(reverse("briefs:approve", args=[submitted.pk]), {}, follow=True)
    assert any("Answer every question" in m for m in messages_of(response))
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.SUBMITTED


def test_requested_changes_show_as_comments_in_the_rep_s_editor(client, submitted, victor, alice):
    client.force_login(victor)
    client.post(
        reverse("briefs:request_changes", args=[submitted.pk]),
        {"comment": "", "comment-financial_condition": "Where is their debt?"},
    )
    assert Brief.objects.get(pk=submitted.pk).status == BriefStatus.CHANGES_REQUESTED
    client.force_login(alice)
    page = client.get(reverse("briefs:edit", args=[submitted.pk])).content.decode()
    card = page.split('id="section-financial_condition"')[1].split("</section>")[0]
    assert "Where is their debt?" in card and "Resolve" in card


def test_the_review_queue_lists_submitted_briefs_by_call_time(
    client, submitted, victor, vera, acme, make_call, alice
):
    from callprep.briefs import services
    from tests.review.conftest import fill

    sooner = services.start_brief(
        make_call(acme, executive=victor, days=1, title="Sooner"), by=alice
    )
    fill(sooner, alice)
    workflow.submit_brief(sooner, by=alice)
    client.force_login(victor)
    page = client.get(reverse("callprep:review_queue")).content.decode()
    assert page.index("Sooner") < page.index("Executive visit at Acme")
    assert "queue-overdue" in page  # the sooner call's brief was due 48 h before it
    assert "2 briefs waiting for your review." in page
    client.force_login(vera)  # not the executive joining these calls
    assert "0 briefs waiting" in client.get(reverse("callprep:review_queue")).content.decode()


def test_the_queue_filters_by_team_with_and_without_htmx(client, submitted, victor, east):
    client.force_login(victor)
    url = reverse("callprep:review_queue")
    full = client.get(url, {"team": east.pk})
    assert "<html" in full.content.decode() and "Executive visit at Acme" in full.content.decode()
    partial = client.get(url, {"team": east.pk + 999}, **htmx()).content.decode()
    assert "<html" not in partial and "0 briefs waiting" in partial


def test_the_review_queue_has_one_address_and_the_old_one_redirects_to_it(client, victor):
    client.force_login(victor)
    assert reverse("callprep:review_queue") == "/reviews/"
    response = client.get("/briefs/reviews/?team=7")
    assert response.status_code == 301
    assert response["Location"] == "/reviews/?team=7"


def test_reps_have_no_review_queue(client, alice, bob):
    for user in (alice, bob):
        client.force_login(user)
        assert client.get(reverse("callprep:review_queue")).status_code == 403


def test_a_manager_s_queue_holds_the_team_s_calls_no_executive_joins(
    client, submitted, mallory, walter
):
    from callprep.models import Call

    client.force_login(mallory)
    url = reverse("callprep:review_queue")
    page = client.get(url).content.decode()
    assert "0 briefs waiting" in page  # victor joins this call: his to review, not hers
    Call.objects.filter(pk=submitted.call_id).update(executive=None)

    page = client.get(url).content.decode()
    assert "1 brief waiting for your review." in page and "Executive visit at Acme" in page
    client.force_login(walter)  # manages West, not East
    assert "0 briefs waiting" in client.get(url).content.decode()


def test_the_executive_view_reads_in_one_page_with_sources(client, approved, victor, dana):
    approved.call.contacts.add(dana)
    client.force_login(victor)
    response = client.get(reverse("briefs:executive", args=[approved.pk]))
    page = response.content.decode()
    for heading in (
        "Why we are going",
        "Three facts about their business",
        "Who is in the room",
        "Financial snapshot",
        "Economic drivers",
        "Deal reality",
        "Your role on the call",
        "The agreed outcome",
    ):
        assert heading in page
    assert "Customer said — Dana Buyer, 12 May" in page  # in the customer's words
    assert "https://www.sec.gov/acme-10k" in page  # a fact with its source
    assert "Dana Buyer</strong>, CFO — Economic buyer" in page
    assert "Approved version 1 by Victor" in page
    assert "Mark as briefed" in page
    assert "What would the board call success?" in page
    assert "No economic drivers noted yet." in page  # no evidence: it degrades
    assert hostile_markup(page, allow_scripts_from=("/static/",)) == []


def test_the_executive_view_shows_collected_financials_with_sparklines(client, approved, victor):
    from datetime import date
    from decimal import Decimal

    from callprep.evidence.models import Evidence

    for year, value in ((2022, 90), (2023, 95), (2024, 100)):
        Evidence.objects.create(
            account=approved.account,
            collector="sec",
            kind="financial",
            source="sec-companyfacts",
            key=f"revenue-{year}",
            label="Revenue",
            metric="revenue",
            value=Decimal(value) * 1_000_000,
            unit="USD",
            period_end=date(year, 12, 31),
            url="https://www.sec.gov/cgi-bin/browse-edgar?CIK=1",
        )
    client.force_login(victor)
    page = client.get(reverse("briefs:executive", args=[approved.pk])).content.decode()
    assert '<svg class="sparkline sparkline-up"' in page
    assert "100 M USD" in page and "SEC EDGAR company facts" in page


def test_marking_as_briefed_is_shown_on_the_executive_view(client, approved, victor):
    client.force_login(victor)
    response = client.post(reverse("briefs:briefed", args=[approved.pk]), follow=True)
    assert "Marked as briefed. Enjoy the call." in messages_of(response)
    assert re.search(r'data-testid="briefed">Briefed .+ \(version 1\)', response.content.decode())


def test_what_changed_since_approval_is_a_diff(client, approved, alice, victor):
    old = section(approved, "value_hypothesis").text
    text = old + "\n\nWe also cut their audit fees."
    write(approved, "value_hypothesis", text, by=alice, confirm_reopen=True)
    client.force_login(victor)
    page = client.get(reverse("briefs:changes", args=[approved.pk])).content.decode()
    assert "Value hypothesis" in page
    assert '<span class="diff-add">+ We also cut their audit fees.</span>' in page
    assert "Industry dynamics" not in page.split("<h1>")[1]  # unchanged sections are left out
    queue = client.get(reverse("callprep:review_queue")).content.decode()
    assert "Executive visit at Acme" in queue  # back in review
    executive = client.get(reverse("briefs:executive", args=[approved.pk])).content.decode()
    assert "what changed since approval" in executive


def test_the_audit_page_lists_who_did_what_and_when(client, approved, mallory):
    client.force_login(mallory)
    page = client.get(reverse("briefs:audit", args=[approved.pk])).content.decode()
    assert "Submitted for review" in page and "Approved" in page
    assert "draft → submitted" in page and "submitted → approved" in page


def test_comments_are_posted_replied_to_and_resolved_through_forms(
    client, submitted, victor, alice, mallory
):
    client.force_login(victor)
    url = reverse("briefs:comments", args=[submitted.pk])
    client.post(url, {"section": "call_plan", "body": "Who opens?"})
    first = SectionComment.objects.get()
    client.force_login(alice)
    client.post(url, {"parent": first.pk, "body": "You do."})
    client.post(reverse("briefs:resolve_comment", args=[submitted.pk, first.pk]))
    first.refresh_from_db()
    assert first.is_resolved and first.replies.get().body == "You do."
    client.force_login(mallory)
    assert client.get(url).status_code == 200
    assert client.post(url, {"section": "call_plan", "body": "Me too"}).status_code == 403
    resolve = reverse("briefs:resolve_comment", args=[submitted.pk, first.pk])
    assert client.post(resolve).status_code == 403


def test_notifications_are_listed_opened_and_kept_private(client, submitted, victor, alice):
    item = Notification.objects.get(recipient=victor)
    client.force_login(alice)
    assert client.post(reverse("briefs:notification_open", args=[item.pk])).status_code == 404
    client.force_login(victor)
    page = client.get(reverse("briefs:notifications")).content.decode()
    assert "Brief to review: Executive visit at Acme" in page
    assert 'data-testid="unread-count">1<' in page
    response = client.post(reverse("briefs:notification_open", args=[item.pk]))
    assert response.status_code == 302 and response["Location"] == item.url
    item.refresh_from_db()
    assert item.read_at is not None


def test_each_user_mutes_e_mail_per_kind(client, victor):
    client.force_login(victor)
    url = reverse("briefs:notification_settings")
    assert client.get(url).status_code == 200
    client.post(url, {"email": ["approved", "comment"]})
    muted = set(EmailMute.objects.filter(user=victor).values_list("kind", flat=True))
    assert "submitted" in muted and "approved" not in muted
    client.post(url, {"email": ["submitted"]})
    muted = set(EmailMute.objects.filter(user=victor).values_list("kind", flat=True))
    assert "submitted" not in muted and "approved" in muted


def test_signed_out_visitors_are_sent_to_the_login_page(client, submitted):
    for url in (reverse("briefs:executive", args=[submitted.pk]), reverse("callprep:review_queue")):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login/" in response["Location"]


def test_an_overdue_brief_in_the_editor_says_so(client, brief, alice):
    Brief.objects.filter(pk=brief.pk)  # the call is in 3 days: not overdue yet
    client.force_login(alice)
    page = client.get(reverse("briefs:edit", args=[brief.pk])).content.decode()
    assert "Overdue" not in page
    from callprep.models import Call

    soon = brief.call.starts_at - timedelta(days=2, hours=12)
    Call.objects.filter(pk=brief.call_id).update(starts_at=soon, ends_at=soon + timedelta(hours=1))
    page = client.get(reverse("briefs:edit", args=[brief.pk])).content.decode()
    assert "Overdue" in page

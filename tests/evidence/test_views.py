"""The evidence panel, run progress, refresh and cite: access, htmx and plain requests."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from callprep.evidence import collect
from callprep.evidence.models import Citation, CollectionRun, Evidence, RunState

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(collect, "_enqueue", lambda ids: None)


@pytest.fixture
def collected(northwind):
    run = collect.start_collection(northwind)
    for source_run in run.sources.filter(state=RunState.QUEUED):
        collect.collect_source(source_run.pk)
    run.refresh_from_db()
    return run


def panel_url(account):
    return reverse("evidence:panel", args=[account.pk])


def test_the_panel_groups_evidence_by_the_section_it_supports(client, alice, collected):
    client.force_login(alice)
    response = client.get(panel_url(collected.account))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    for section in ("financial_condition", "economic_drivers", "business_challenges"):
        assert f'id="evidence-{section}"' in html
    assert "Revenue, FY2024" in html
    assert '<svg class="sparkline' in html
    assert "SEC EDGAR company facts" in html
    assert "US company — World Bank indicators are for non-US customers" in html


def test_the_panel_answers_htmx_with_the_panel_region_only(client, alice, collected):
    client.force_login(alice)
    response = client.get(panel_url(collected.account), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="evidence-panel"')


def test_the_panel_has_no_inline_scripts_styles_or_handlers(client, alice, collected):
    client.force_login(alice)
    html = client.get(panel_url(collected.account), **HTMX).content.decode()
    assert "<script" not in html
    assert "style=" not in html
    assert " onclick" not in html and " onload" not in html


@pytest.mark.parametrize("user", ["bob", "mallory", "ada"])
def test_teammates_managers_and_admins_see_the_evidence(client, request, collected, user):
    client.force_login(request.getfixturevalue(user))
    assert client.get(panel_url(collected.account)).status_code == 200


@pytest.mark.parametrize("user", ["charlie", "walter", "victor", "nobody"])
def test_outsiders_get_404_everywhere(client, request, collected, user):
    client.force_login(request.getfixturevalue(user))
    evidence = Evidence.objects.filter(account=collected.account).first()
    assert client.get(panel_url(collected.account)).status_code == 404
    assert client.get(reverse("evidence:run_status", args=[collected.pk])).status_code == 404
    refresh = reverse("evidence:refresh", args=[collected.account.pk])
    assert client.post(refresh).status_code == 404
    assert client.post(reverse("evidence:cite", args=[evidence.pk])).status_code == 404
    assert not Citation.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, collected):
    response = client.get(panel_url(collected.account))
    assert response.status_code == 302
    assert "/auth/login" in response["Location"] or "login" in response["Location"]


def test_run_status_polls_while_the_run_is_open_and_stops_when_it_ends(client, alice, northwind):
    client.force_login(alice)
    run = collect.start_collection(northwind)
    url = reverse("evidence:run_status", args=[run.pk])
    html = client.get(url, **HTMX).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert f'href="{url}"' in html  # the poll is also a plain link
    for source_run in run.sources.filter(state=RunState.QUEUED):
        collect.collect_source(source_run.pk)
    response = client.get(url, **HTMX)
    assert "every 2s" not in response.content.decode()
    assert response["HX-Trigger"] == "evidence-updated"


def test_run_status_without_htmx_renders_the_whole_page(client, alice, collected):
    client.force_login(alice)
    response = client.get(reverse("evidence:run_status", args=[collected.pk]))
    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_refresh_starts_a_run_and_a_second_click_is_told_to_wait(client, alice, northwind):
    client.force_login(alice)
    url = reverse("evidence:refresh", args=[northwind.pk])
    response = client.post(url, **HTMX)
    assert response.status_code == 200
    assert "Collecting evidence" in response.content.decode()
    run = CollectionRun.objects.get()
    assert run.trigger == "manual" and run.requested_by == alice
    again = client.post(url, **HTMX)
    assert again.status_code == 429
    assert "try again in" in again.content.decode()
    assert CollectionRun.objects.count() == 1


def test_refresh_without_htmx_redirects_and_is_rate_limited_with_a_page(client, alice, northwind):
    client.force_login(alice)
    url = reverse("evidence:refresh", args=[northwind.pk])
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == panel_url(northwind)
    again = client.post(url)
    assert again.status_code == 429
    assert int(again["Retry-After"]) > 0
    assert "try again in" in again.content.decode()


def test_the_refresh_limit_is_per_user(client, alice, ada, northwind):
    url = reverse("evidence:refresh", args=[northwind.pk])
    client.force_login(alice)
    assert client.post(url).status_code == 302
    CollectionRun.objects.update(finished_at=timezone.now())
    client.force_login(ada)
    assert client.post(url).status_code == 302
    assert CollectionRun.objects.count() == 2


def test_managers_can_read_but_not_refresh_or_cite(client, mallory, collected):
    client.force_login(mallory)
    evidence = Evidence.objects.filter(account=collected.account).first()
    assert client.post(reverse("evidence:refresh", args=[collected.account.pk])).status_code == 403
    assert client.post(reverse("evidence:cite", args=[evidence.pk])).status_code == 403


def evidence_rows() -> tuple[int, int, int]:
    return Evidence.objects.count(), CollectionRun.objects.count(), Citation.objects.count()


def test_the_owner_sees_refresh_and_cite_and_a_teammate_who_only_reads_sees_neither(
    client, alice, bob, collected
):
    client.force_login(alice)
    html = client.get(panel_url(collected.account)).content.decode()
    assert "Refresh evidence" in html and "data-cite-form" in html
    client.force_login(bob)
    html = client.get(panel_url(collected.account)).content.decode()
    assert "Revenue, FY2024" in html
    assert "Refresh evidence" not in html and "data-cite-form" not in html
    assert reverse("evidence:refresh", args=[collected.account.pk]) not in html


@pytest.mark.parametrize("htmx", [{}, HTMX], ids=["plain", "htmx"])
def test_a_teammate_who_only_reads_the_account_cannot_refresh_it_or_cite_outside_a_brief(
    client, bob, collected, htmx
):
    """bob is on alice's team: he reads Northwind, but only she (and admins) may change it."""
    client.force_login(bob)
    evidence = Evidence.objects.filter(account=collected.account).first()
    before = evidence_rows()
    refresh = client.post(reverse("evidence:refresh", args=[collected.account.pk]), **htmx)
    assert refresh.status_code == 403
    assert "You can read the evidence for Northwind Robotics Inc. but not refresh it" in (
        refresh.content.decode()
    )
    cite = client.post(
        reverse("evidence:cite", args=[evidence.pk]), {"section": "financial_condition"}, **htmx
    )
    assert cite.status_code == 403
    assert "not cite it outside a brief" in cite.content.decode()
    assert evidence_rows() == before


def test_a_refused_refresh_does_not_use_up_the_rate_limit(client, alice, bob, northwind):
    url = reverse("evidence:refresh", args=[northwind.pk])
    client.force_login(bob)
    assert client.post(url).status_code == 403
    assert not CollectionRun.objects.exists()
    client.force_login(alice)
    assert client.post(url).status_code == 302


def test_citing_returns_the_markup_and_keeps_a_snapshot(client, alice, collected):
    client.force_login(alice)
    revenue = Evidence.objects.get(
        account=collected.account, metric="revenue", period_end="2024-06-30"
    )
    response = client.post(
        reverse("evidence:cite", args=[revenue.pk]), {"section": "financial_condition"}, **HTMX
    )
    assert response.status_code == 201
    citation = Citation.objects.get()
    html = response.content.decode()
    assert f'data-marker="[^c{citation.pk}]"' in html
    assert "Revenue, FY2024: 726 M USD" in html
    assert "SEC EDGAR company facts" in html and revenue.url in html
    assert citation.section_key == "financial_condition"
    # A refresh that changes or drops the row leaves the footnote as it was cited.
    Evidence.objects.filter(pk=revenue.pk).delete()
    citation.refresh_from_db()
    assert citation.evidence is None
    assert "726 M USD" in citation.footnote()
    again = client.get(reverse("evidence:citation", args=[citation.pk]))
    assert "Revenue, FY2024: 726 M USD" in again.content.decode()


def test_citing_without_htmx_redirects_back_with_a_message(client, alice, collected):
    client.force_login(alice)
    evidence = Evidence.objects.filter(account=collected.account, kind="news").first()
    response = client.post(reverse("evidence:cite", args=[evidence.pk]), follow=True)
    assert response.redirect_chain[-1][0] == panel_url(collected.account)
    assert "Cited:" in response.content.decode()


def test_citing_into_a_brief_someone_else_edits_is_a_404(client, bob, collected):
    client.force_login(bob)
    evidence = Evidence.objects.filter(account=collected.account).first()
    response = client.post(reverse("evidence:cite", args=[evidence.pk]), {"brief": "999999"})
    assert response.status_code == 404
    assert not Citation.objects.exists()


def test_citations_of_other_accounts_are_not_shown_to_outsiders(client, charlie, alice, collected):
    client.force_login(alice)
    evidence = Evidence.objects.filter(account=collected.account).first()
    client.post(reverse("evidence:cite", args=[evidence.pk]))
    client.force_login(charlie)
    citation = Citation.objects.get()
    assert client.get(reverse("evidence:citation", args=[citation.pk])).status_code == 404


def test_the_panel_rejects_writes_by_get(client, alice, northwind):
    client.force_login(alice)
    assert client.get(reverse("evidence:refresh", args=[northwind.pk])).status_code == 405

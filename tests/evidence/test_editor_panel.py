"""The evidence panel inside the brief editor: access, htmx and plain requests, citing into a
section with and without JavaScript, the move since the last brief, and talking points."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from callprep.briefs import services
from callprep.briefs.models import Brief, BriefSection
from callprep.evidence import collect
from callprep.evidence.insights import change_since
from callprep.evidence.models import Citation, CollectionRun, Evidence, RunState
from tests.accounts.conftest import acme  # noqa: F401
from tests.briefs.fixtures import hostile_markup

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


@pytest.fixture
def nw_brief(northwind, alice, make_call):
    return services.start_brief(make_call(northwind, title="Visit at Northwind"), by=alice)


@pytest.fixture
def revenue(collected):
    return Evidence.objects.get(
        account=collected.account, metric="revenue", period_end="2024-06-30"
    )


def section(brief, key="financial_condition") -> BriefSection:
    return BriefSection.objects.select_related("brief__call").get(brief=brief, key=key)


def panel_url(brief, key=""):
    query = f"?brief={brief.pk}" + (f"&section={key}" if key else "")
    return reverse("evidence:panel", args=[brief.account_id]) + query


def cite(client, evidence, brief, key="financial_condition", **extra):
    data = {"brief": brief.pk, "section": key, "base_version": section(brief, key).version}
    data.update(extra.pop("data", {}))
    return client.post(reverse("evidence:cite", args=[evidence.pk]), data, **extra)


# --- The panel in the editor ---------------------------------------------------------------


def test_the_editor_shows_the_panel_grouped_by_the_section_it_supports(
    alice_client, nw_brief, collected
):
    html = alice_client.get(nw_brief.get_edit_url()).content.decode()
    assert 'id="evidence-panel"' in html
    for key in ("financial_condition", "economic_drivers", "business_challenges"):
        assert f'data-cite-section="{key}"' in html
    assert "Revenue, FY2024" in html
    assert "Refresh evidence" in html
    assert f'name="brief" value="{nw_brief.pk}"' in html
    assert "in Financial condition" in html  # each cite button names its section
    assert f'href="/evidence/account/{nw_brief.account_id}/?brief={nw_brief.pk}"' in html
    assert " onclick" not in html and "style=" not in html


def test_the_panel_of_a_brief_answers_htmx_with_its_region_and_plain_requests_with_a_page(
    alice_client, nw_brief, collected
):
    url = panel_url(nw_brief, "economic_drivers")
    partial = alice_client.get(url, **HTMX).content.decode()
    assert partial.lstrip().startswith('<section id="evidence-panel"')
    assert 'name="section" value="economic_drivers"' in partial
    assert "<html" not in partial
    page = alice_client.get(url).content.decode()
    assert "<html" in page
    assert "Back to the brief for Visit at Northwind" in page
    # Every hx-get keeps its href: the reload link and its htmx twin are the same URL.
    reload_url = url.replace("&", "&amp;")
    assert f'href="{reload_url}"' in page and f'hx-get="{reload_url}"' in page


def test_a_brief_s_evidence_page_cites_with_plain_forms_and_the_editor_with_htmx(
    alice_client, nw_brief, collected
):
    """Only the editor has the script that puts an htmx citation's marker into the text; on
    the evidence page of a brief (and its reloads) "Cite" posts a form that writes it."""
    url = panel_url(nw_brief)
    page = alice_client.get(url).content.decode()
    reloaded = alice_client.get(
        url, **HTMX, HTTP_HX_CURRENT_URL=f"http://testserver{url}"
    ).content.decode()
    in_editor = alice_client.get(
        url, **HTMX, HTTP_HX_CURRENT_URL=f"http://testserver{nw_brief.get_edit_url()}"
    ).content.decode()
    editor = alice_client.get(nw_brief.get_edit_url()).content.decode()

    for html in (page, reloaded):
        assert "data-cite-form" in html
        assert not re.search(r'hx-post="/evidence/\d+/cite/"', html)
    for html in (in_editor, editor):
        assert re.search(r'hx-post="/evidence/\d+/cite/"', html)


def test_the_run_progress_in_a_brief_polls_and_keeps_the_brief_in_its_links(
    alice_client, nw_brief, northwind
):
    run = collect.start_collection(northwind)
    html = alice_client.get(panel_url(nw_brief), **HTMX).content.decode()
    status = reverse("evidence:run_status", args=[run.pk]) + f"?brief={nw_brief.pk}"
    assert 'hx-trigger="every 2s"' in html
    assert f'href="{status}"' in html and f'hx-get="{status}"' in html
    for source_run in run.sources.filter(state=RunState.QUEUED):
        collect.collect_source(source_run.pk)
    response = alice_client.get(status, **HTMX)
    assert "every 2s" not in response.content.decode()
    assert response["HX-Trigger"] == "evidence-updated"
    assert "<html" in alice_client.get(status).content.decode()


@pytest.mark.parametrize("user", ["charlie", "walter", "nobody"])
def test_outsiders_get_404_for_the_panel_of_a_brief(client, request, nw_brief, collected, user):
    client.force_login(request.getfixturevalue(user))
    assert client.get(panel_url(nw_brief)).status_code == 404
    assert client.get(panel_url(nw_brief), **HTMX).status_code == 404


def test_a_brief_of_another_account_or_one_the_user_cannot_see_is_a_404(
    alice_client,
    charlie,
    nw_brief,
    collected,
    acme,  # noqa: F811
    make_call,
):
    acme_brief = services.start_brief(make_call(acme), by=acme.owner)
    url = reverse("evidence:panel", args=[nw_brief.account_id]) + f"?brief={acme_brief.pk}"
    assert alice_client.get(url).status_code == 404
    assert alice_client.get(url + "x").status_code == 404


def test_readers_see_the_panel_without_cite_buttons_and_get_403_when_citing(
    client, bob, mallory, nw_brief, revenue
):
    for reader in (bob, mallory):
        client.force_login(reader)
        html = client.get(panel_url(nw_brief)).content.decode()
        assert "Revenue, FY2024" in html
        assert "data-cite-form" not in html
        assert cite(client, revenue, nw_brief).status_code == 403
        assert cite(client, revenue, nw_brief, **HTMX).status_code == 403
    assert not Citation.objects.exists()


def test_a_teammate_s_own_brief_on_the_account_takes_citations_but_he_cannot_refresh_it(
    client, bob, northwind, make_call, cost_pressure
):
    """bob runs his own call on alice's Northwind: he edits its brief, so he cites into it
    and adds talking points; the account is hers, so its evidence is hers to refresh."""
    bobs = services.start_brief(make_call(northwind, owner=bob), by=bob, collect_evidence=False)
    client.force_login(bob)
    html = client.get(bobs.get_edit_url()).content.decode()
    assert "data-cite-form" in html and "Add to brief (Financial condition)" in html
    assert "Refresh evidence" not in html
    revenue = Evidence.objects.get(account=northwind, metric="revenue", period_end="2024-06-30")
    assert cite(client, revenue, bobs, **HTMX).status_code == 201
    add = reverse("evidence:add_insight", args=[northwind.pk, "cost_pressure"])
    assert client.post(add, {"brief": bobs.pk}, **HTMX).status_code == 201
    runs = CollectionRun.objects.count()
    assert client.post(reverse("evidence:refresh", args=[northwind.pk])).status_code == 403
    assert CollectionRun.objects.count() == runs


# --- Citing -----------------------------------------------------------------------------------


def test_citing_with_htmx_answers_the_marker_and_leaves_the_text_to_the_editor(
    alice_client, nw_brief, revenue
):
    response = cite(alice_client, revenue, nw_brief, **HTMX)
    assert response.status_code == 201
    citation = Citation.objects.get()
    assert (citation.brief_id, citation.section_key) == (nw_brief.pk, "financial_condition")
    assert f'data-marker="[^c{citation.pk}]"' in response.content.decode()
    stored = section(nw_brief)
    assert stored.text == "" and stored.version == 1  # the editor inserts and autosaves
    assert stored.citations[str(citation.pk)]["value"] == "726 M USD"


def test_the_autosave_after_a_cite_renders_the_footnote_within_the_query_budget(
    alice_client, nw_brief, revenue, django_assert_max_num_queries
):
    cite(alice_client, revenue, nw_brief, **HTMX)
    marker = f"[^c{Citation.objects.get().pk}]"
    url = reverse("briefs:section", args=[nw_brief.pk, "financial_condition"])
    # Session, user, section; the save in its transaction (a savepoint here, inside the test's:
    # 2) with the update and the revision; this first text moves the section from empty to in
    # progress, so the call's dashboard facts follow in a nested savepoint (2): lock, read,
    # write. No query for the citation: its rendering comes from the cited evidence stored
    # with the section.
    with django_assert_max_num_queries(12):
        response = alice_client.post(
            url, {"text": f"Revenue grew to 726 M USD {marker}.", "base_version": 1}, **HTMX
        )
    assert response.status_code == 200
    html = section(nw_brief).html
    assert '<sup class="footnote-ref"' in html
    assert "SEC EDGAR company facts" in html and "726 M USD" in html


def test_citing_without_javascript_appends_the_marker_and_goes_back_to_the_editor(
    alice_client, alice, nw_brief, revenue
):
    fc = section(nw_brief)
    services.save_section(fc, text="Revenue is growing.", base_version=1, by=alice)
    response = cite(alice_client, revenue, nw_brief)
    assert response.status_code == 302
    assert response["Location"] == nw_brief.get_edit_url() + "#section-financial_condition"
    citation = Citation.objects.get()
    stored = section(nw_brief)
    assert stored.text == f"Revenue is growing. [^c{citation.pk}]"
    assert stored.version == 3
    assert 'href="#fn-financial_condition-1"' in stored.html
    assert "Revenue, FY2024" in stored.html and "SEC EDGAR company facts" in stored.html
    assert f'href="{revenue.url}"' in stored.html.replace("&amp;", "&")


def test_citing_without_javascript_on_a_stale_version_shows_the_merge_page(
    alice_client, alice, nw_brief, revenue
):
    page_version = section(nw_brief).version
    services.save_section(section(nw_brief), text="Saved elsewhere.", base_version=1, by=alice)
    response = cite(alice_client, revenue, nw_brief, data={"base_version": page_version})
    assert response.status_code == 409
    html = response.content.decode()
    marker = f"[^c{Citation.objects.get().pk}]"
    assert "conflict-banner" in html
    assert f"Saved elsewhere. {marker}" in html  # "your text": nothing is lost
    assert section(nw_brief).text == "Saved elsewhere."


def test_a_citation_keeps_its_value_after_a_refresh_changes_or_deletes_the_evidence(
    alice_client, alice, nw_brief, revenue
):
    cite(alice_client, revenue, nw_brief)
    Evidence.objects.filter(pk=revenue.pk).update(value=Decimal("1"), label="Changed")
    fc = section(nw_brief)
    services.save_section(fc, text=fc.text + " More.", base_version=fc.version, by=alice)
    assert "726 M USD" in section(nw_brief).html
    Evidence.objects.filter(pk=revenue.pk).delete()
    fc = section(nw_brief)
    fc.citations = {}  # even with the section's copy gone, the snapshot answers
    services.save_section(fc, text=fc.text + " Again.", base_version=fc.version, by=alice)
    html = section(nw_brief).html
    assert "726 M USD" in html and "Revenue, FY2024" in html and "Changed" not in html


def test_hostile_evidence_renders_inert_in_the_panel_and_the_footnote(
    alice_client, nw_brief, northwind
):
    hostile = Evidence.objects.create(
        account=northwind,
        collector="news",
        kind="news",
        source="feed",
        key="x",
        label='<script>alert(1)</script><img src=x onerror="alert(2)">',
        url="javascript:alert(3)",
        excerpt="<svg onload=alert(4)>",
        retrieved_at=timezone.now(),
    )
    panel = alice_client.get(panel_url(nw_brief)).content.decode()
    assert hostile_markup(panel, allow_scripts_from=("/static/",)) == []
    assert "javascript:" not in panel
    cite(alice_client, hostile, nw_brief, key="business_challenges")
    html = section(nw_brief, "business_challenges").html
    assert '<sup class="footnote-ref"' in html
    assert hostile_markup(html) == []
    assert "javascript:" not in html and "&lt;script&gt;" in html
    page = alice_client.get(nw_brief.get_absolute_url()).content.decode()
    assert hostile_markup(page, allow_scripts_from=("/static/",)) == []


# --- A new brief collects evidence ---------------------------------------------------------


def test_starting_a_brief_starts_a_collection_on_commit(
    alice_client, alice, northwind, make_call, django_capture_on_commit_callbacks
):
    call = make_call(northwind)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("briefs:start", args=[call.pk]))
    assert response.status_code == 302
    run = CollectionRun.objects.get(account=northwind)
    assert (run.trigger, run.requested_by) == ("brief", alice)


def test_starting_a_brief_while_a_run_is_in_progress_starts_no_second_run(
    alice, northwind, make_call, django_capture_on_commit_callbacks
):
    running = collect.start_collection(northwind)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_brief(make_call(northwind), by=alice)
    assert list(CollectionRun.objects.all()) == [running]


# --- The move since the account's last brief ----------------------------------------------


def series(account, name, unit, points):
    for day, value in points:
        Evidence.objects.create(
            account=account,
            collector="fred",
            kind="indicator",
            source="fred",
            key=f"{name}:{day}",
            label=f"{name} series",
            series=name,
            value=Decimal(value),
            unit=unit,
            period_end=dt.date.fromisoformat(day),
            retrieved_at=timezone.now(),
        )


def test_change_since_compares_the_latest_value_with_the_last_one_before_the_day(northwind):
    series(northwind, "FEDFUNDS", "percent", [("2024-05-01", "5.33"), ("2024-07-01", "5.25")])
    series(northwind, "FEDFUNDS", "percent", [("2024-09-01", "4.83"), ("2025-01-01", "4.33")])
    rows = list(Evidence.objects.filter(series="FEDFUNDS"))
    change = change_since(rows, dt.date(2024, 8, 15))
    assert (change.old.value, change.new.value, change.delta) == (
        Decimal("5.25"),
        Decimal("4.33"),
        Decimal("-0.92"),
    )
    assert change_since(rows, dt.date(2024, 1, 1)) is None  # no observation that old
    assert change_since(rows, dt.date(2025, 2, 1)) is None  # nothing new since


def test_the_panel_shows_each_indicator_s_move_since_the_previous_brief(
    alice_client, alice, northwind, make_call
):
    series(northwind, "FEDFUNDS", "percent", [("2024-06-01", "5.33"), ("2025-01-01", "4.33")])
    series(northwind, "INDPRO", "index", [("2024-06-01", "100"), ("2025-01-01", "103")])
    earlier = services.start_brief(make_call(northwind, days=1), by=alice)
    Brief.objects.filter(pk=earlier.pk).update(
        created_at=timezone.make_aware(dt.datetime(2024, 7, 15, 12))
    )
    current = services.start_brief(make_call(northwind, days=5), by=alice)
    html = alice_client.get(panel_url(current)).content.decode()
    assert "-1.00 pts since the last brief (15 Jul 2024)" in html
    assert "+3.0% since the last brief (15 Jul 2024)" in html
    # The earlier brief has no brief before it: no move is shown there.
    assert "since the last brief" not in alice_client.get(panel_url(earlier)).content.decode()


# --- Suggested talking points ---------------------------------------------------------------


@pytest.fixture
def cost_pressure(northwind):
    def row(metric, label, day, value, unit):
        return Evidence.objects.create(
            account=northwind,
            collector="sec",
            kind="financial",
            source="sec-companyfacts",
            key=f"{metric}:{day}",
            label=label,
            metric=metric,
            value=Decimal(value),
            unit=unit,
            period_end=dt.date.fromisoformat(day),
            retrieved_at=timezone.now(),
        )

    row("revenue", "Revenue, FY2023", "2023-06-30", "1000000000", "USD")
    row("revenue", "Revenue, FY2024", "2024-06-30", "900000000", "USD")
    row("operating_margin", "Operating margin, FY2023", "2023-06-30", "12", "percent")
    row("operating_margin", "Operating margin, FY2024", "2024-06-30", "10", "percent")


def test_talking_points_show_their_numbers_and_enter_the_brief_only_on_a_click(
    alice_client, nw_brief, cost_pressure
):
    html = alice_client.get(nw_brief.get_edit_url()).content.decode()
    assert "Cost pressure" in html and "Revenue fell 10.0%" in html
    assert "Add to brief (Financial condition)" in html
    assert section(nw_brief).text == ""  # ignoring is the default
    assert not Citation.objects.exists()


def test_adding_a_talking_point_with_htmx_answers_the_text_for_the_editor(
    alice_client, nw_brief, cost_pressure
):
    url = reverse("evidence:add_insight", args=[nw_brief.account_id, "cost_pressure"])
    data = {"brief": nw_brief.pk, "section": "financial_condition", "base_version": 1}
    response = alice_client.post(url, data, **HTMX)
    assert response.status_code == 201
    html = response.content.decode()
    assert 'data-insert="Revenue fell 10.0%' in html
    assert 'data-section="financial_condition"' in html
    assert Citation.objects.filter(brief_id=nw_brief.pk).count() == 4
    assert section(nw_brief).text == ""


def test_adding_a_talking_point_without_javascript_appends_it_with_its_citations(
    alice_client, alice, nw_brief, cost_pressure
):
    fc = section(nw_brief)
    services.save_section(fc, text="Our notes.", base_version=1, by=alice)
    url = reverse("evidence:add_insight", args=[nw_brief.account_id, "cost_pressure"])
    data = {"brief": nw_brief.pk, "section": "financial_condition", "base_version": 2}
    response = alice_client.post(url, data)
    assert response.status_code == 302
    stored = section(nw_brief)
    assert stored.text.startswith("Our notes.\n\nRevenue fell 10.0%")
    assert stored.html.count('<sup class="footnote-ref"') == 4
    assert "Operating margin, FY2024" in stored.html


def test_readers_and_outsiders_cannot_add_talking_points(
    client, bob, charlie, nw_brief, cost_pressure
):
    url = reverse("evidence:add_insight", args=[nw_brief.account_id, "cost_pressure"])
    data = {"brief": nw_brief.pk, "section": "financial_condition", "base_version": 1}
    client.force_login(bob)
    assert client.post(url, data).status_code == 403
    client.force_login(charlie)
    assert client.post(url, data).status_code == 404
    assert section(nw_brief).text == "" and not Citation.objects.exists()

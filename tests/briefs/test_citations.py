"""Citation markers in a section: numbered footnotes, only this brief's citations, sanitised,
kept through carry-forward."""

from __future__ import annotations

import pytest
from django.utils import timezone

from callprep.briefs import services
from callprep.briefs.models import BriefSection
from callprep.briefs.rendering import footnote_data, render_markdown
from callprep.evidence.models import Citation
from tests.briefs.fixtures import hostile_markup, section_of

pytestmark = pytest.mark.django_db


def note(label, **extra):
    data = {
        "label_": label,
        "value_text": "726 M USD",
        "source_name": "SEC EDGAR company facts",
        "period_text": "2023-07-01 to 2024-06-30",
        "retrieved": "2025-01-02",
        "url": "https://www.sec.gov/x",
    }
    data.update(extra)
    data["label"] = data.pop("label_")
    return footnote_data(**data)


def make_citation(brief, label="Revenue, FY2024", **extra) -> Citation:
    fields = {
        "account_id": brief.account_id,
        "brief_id": brief.pk,
        "section_key": "financial_condition",
        "label": label,
        "value_text": "726 M USD",
        "source": "sec-companyfacts",
        "source_name": "SEC EDGAR company facts",
        "url": "https://www.sec.gov/cgi-bin/browse-edgar?CIK=1",
        "retrieved_at": timezone.now(),
    }
    fields.update(extra)
    return Citation.objects.create(**fields)


def test_footnotes_are_numbered_in_order_of_first_appearance_in_the_section():
    notes = {7: note("Seven"), 3: note("Three")}
    html = render_markdown(
        "First [^c7], then [^c3], and [^c7] again.", citations=notes, scope="financial_condition"
    ).html
    refs = [part.split("</a>")[0][-1] for part in html.split('class="footnote-ref"')[1:]]
    assert refs == ["1", "2", "1"]
    assert html.index('<li id="fn-financial_condition-1">Seven') < html.index(
        '<li id="fn-financial_condition-2">Three'
    )
    assert html.count('id="fnref-financial_condition-1"') == 1  # ids stay unique


def test_a_footnote_shows_label_value_source_period_retrieved_date_and_a_safe_link():
    html = render_markdown("Growth [^c1].", citations={1: note("Revenue, FY2024")}).html
    footnote = html[html.index('<div class="footnotes">') :]
    for text in (
        "Revenue, FY2024",
        "726 M USD",
        "SEC EDGAR company facts",
        "2023-07-01 to 2024-06-30",
        "retrieved 2025-01-02",
    ):
        assert text in footnote
    assert '<a class="footnote-link" href="https://www.sec.gov/x" rel="noopener noreferrer">' in (
        footnote
    )


def test_unknown_markers_and_markers_in_code_stay_plain_text():
    html = render_markdown("See [^c9] and `[^c1]`.", citations={1: note("One")}).html
    assert "[^c9]" in html and "<code>[^c1]</code>" in html
    assert "footnote" not in html


def test_a_hostile_snapshot_renders_inert():
    hostile = note(
        '<script>alert(1)</script><img src=x onerror="alert(2)">',
        value_text='"><svg onload=alert(3)>',
        source_name="<iframe src=javascript:alert(4)>",
        url="javascript:alert(5)",
    )
    html = render_markdown("Look [^c1].", citations={1: hostile}).html
    assert hostile_markup(html) == []
    assert 'href="javascript' not in html  # the words stay, as inert text
    assert "&lt;script&gt;" in html


def test_a_link_that_is_not_http_is_dropped_from_the_footnote():
    for url in ("javascript:alert(1)", "data:text/html,x", "ftp://x.example/", " https://x y"):
        html = render_markdown("x [^c1]", citations={1: note("L", url=url)}).html
        assert "footnote-link" not in html


def test_saving_a_section_resolves_only_this_brief_s_citations(
    brief, alice, make_call, acme, victor
):
    other = services.start_brief(make_call(acme, executive=victor, days=9), by=alice)
    mine, foreign = make_citation(brief), make_citation(other, label="Foreign figure")
    fc = section_of(brief, "financial_condition")
    services.save_section(
        fc, text=f"Ours [^c{mine.pk}], theirs [^c{foreign.pk}].", base_version=1, by=alice
    )
    html = section_of(brief, "financial_condition").html
    assert html.count('<sup class="footnote-ref"') == 1
    assert f"theirs [^c{foreign.pk}]." in html
    assert "Foreign figure" not in html
    stored = BriefSection.objects.get(pk=fc.pk)
    assert stored.citations[str(foreign.pk)] is None  # remembered as not ours


def test_an_autosave_with_known_citations_costs_no_extra_query(
    brief, alice, django_assert_num_queries
):
    citation = make_citation(brief)
    fc = section_of(brief, "financial_condition")
    services.save_section(fc, text=f"A [^c{citation.pk}].", base_version=1, by=alice)
    # The section update and the revision, in save_section's transaction (a savepoint and its
    # release here, inside the test's transaction).
    with django_assert_num_queries(4):
        services.save_section(fc, text=f"A [^c{citation.pk}]. B.", base_version=2, by=alice)
    assert "726 M USD" in fc.html


def test_carrying_a_brief_forward_copies_its_citations_into_the_new_brief(
    brief, alice, make_call, acme, victor
):
    citation = make_citation(brief)
    fc = section_of(brief, "financial_condition")
    services.save_section(fc, text=f"Revenue [^c{citation.pk}].", base_version=1, by=alice)
    later = services.start_brief(
        make_call(acme, executive=victor, days=20), by=alice, carry_forward=True
    )
    copy = Citation.objects.get(brief_id=later.pk)
    assert copy.pk != citation.pk and copy.label == citation.label
    carried = section_of(later, "financial_condition")
    assert carried.text == f"Revenue [^c{copy.pk}]."
    assert '<sup class="footnote-ref"' in carried.html and "726 M USD" in carried.html

"""The editor, read view, autosave, conflicts, preview, history — over HTTP."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callprep.briefs import services
from callprep.briefs.models import Brief, SectionRevision

from .fixtures import LONG_CHALLENGES, hostile_markup, section_of

HX = {"HTTP_HX_REQUEST": "true"}


def section_url(brief, key="business_challenges", name="section"):
    return reverse(f"briefs:{name}", args=[brief.pk, key])


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_a_rep_starts_a_brief_from_the_call(alice_client, call):
    response = alice_client.get(reverse("briefs:for_call", args=[call.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("briefs:start", args=[call.pk])

    page = alice_client.get(response["Location"])
    assert b"Start a new brief" in page.content
    assert b"Carry forward" not in page.content  # nothing to carry forward yet

    response = alice_client.post(reverse("briefs:start", args=[call.pk]))
    brief = Brief.objects.get(call=call)
    assert response.status_code == 302
    assert response["Location"] == brief.get_edit_url()


def test_the_start_page_offers_carry_forward_when_the_account_has_a_brief(
    alice_client, brief, acme, make_call
):
    later = make_call(acme, days=10, title="Follow-up")
    page = alice_client.get(reverse("briefs:start", args=[later.pk]))
    assert "Carry forward the latest brief" in page.content.decode()

    alice_client.post(reverse("briefs:start", args=[later.pk]), {"carry_forward": "1"})

    assert Brief.objects.get(call=later).carried_from == brief


def test_the_editor_shows_every_section_with_guidance_state_and_completeness(alice_client, brief):
    page = alice_client.get(brief.get_edit_url()).content.decode()

    assert page.count('class="card brief-section') == 8
    assert "What keeps their leaders up at night" in page
    assert 'id="brief-completeness"' in page
    assert "0 of 7 required sections complete" in page
    assert 'src="/static/js/brief-editor.js"' in page
    assert f'hx-post="/briefs/{brief.pk}/sections/business_challenges/"' in page
    assert f'action="/briefs/{brief.pk}/sections/business_challenges/"' in page


def from_page(url: str) -> dict:
    """The headers htmx sends from the page at ``url``."""
    return {**HX, "HTTP_HX_CURRENT_URL": f"http://testserver{url}"}


def test_an_htmx_autosave_answers_with_the_status_and_out_of_band_updates(alice_client, brief):
    response = alice_client.post(
        section_url(brief),
        {"text": LONG_CHALLENGES, "base_version": "1"},
        **from_page(brief.get_edit_url()),
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="status-business_challenges"' in body
    assert "Saved at " in body
    assert 'value="2" id="version-business_challenges" hx-swap-oob="true"' in body
    assert 'id="state-business_challenges" hx-swap-oob="true">Complete<' in body
    assert "1 of 7 required sections complete" in body
    assert "<html" not in body
    assert response["X-Section-Version"] == "2"
    assert section_of(brief, "business_challenges").text == LONG_CHALLENGES


def test_an_autosave_from_the_section_page_updates_only_what_that_page_has(alice_client, brief):
    """The stand-alone section page has no overview: no out-of-band badge or meter that htmx
    could not place (it reports each as an error in the browser's console)."""
    page_url = section_url(brief)
    page = alice_client.get(page_url).content.decode()
    response = alice_client.post(
        page_url, {"text": LONG_CHALLENGES, "base_version": "1"}, **from_page(page_url)
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="version-business_challenges" hx-swap-oob="true"' in body
    for oob_id in re.findall(r'id="([\w-]+)"[^>]*hx-swap-oob', body):
        assert f'id="{oob_id}"' in page, oob_id
    assert 'id="brief-completeness"' not in body
    assert 'id="nav-state-business_challenges"' not in body
    assert section_of(brief, "business_challenges").text == LONG_CHALLENGES


def test_a_plain_form_save_redirects_back_to_the_editor(alice_client, brief):
    response = alice_client.post(section_url(brief), {"text": "No JS", "base_version": "1"})

    assert response.status_code == 302
    assert response["Location"] == brief.get_edit_url() + "#section-business_challenges"
    assert section_of(brief, "business_challenges").text == "No JS"
    page = alice_client.get(response["Location"]).content.decode()
    assert "Business challenges and priorities saved at" in page


def test_a_structured_section_saves_its_fields(alice_client, brief):
    data = {
        "base_version": "1",
        "f-pain": "Slow close",
        "f-pain-confidence": "customer_said",
        "f-pain-evidence": "Dana, 12 May",
        "f-economic_buyer_met": "1",
        "text": "Notes",
    }
    alice_client.post(section_url(brief, "deal_check"), data, **HX)

    fields = section_of(brief, "deal_check").fields
    assert fields["pain"] == {
        "text": "Slow close",
        "confidence": "customer_said",
        "evidence": "Dana, 12 May",
    }
    assert fields["economic_buyer_met"] is True


def test_a_save_without_a_version_is_a_bad_request(alice_client, brief):
    response = alice_client.post(section_url(brief), {"text": "x"})

    assert response.status_code == 400


def test_two_clients_conflict_and_nothing_is_lost(alice, brief):
    first, second = Client(), Client()
    first.force_login(alice)
    second.force_login(alice)
    # Both tabs opened the editor at version 1.
    assert (
        'value="1" id="version-business_challenges"'
        in first.get(brief.get_edit_url()).content.decode()
    )
    second.get(brief.get_edit_url())

    saved = first.post(section_url(brief), {"text": "First tab's text", "base_version": "1"}, **HX)
    refused = second.post(
        section_url(brief), {"text": "Second tab's text", "base_version": "1"}, **HX
    )

    assert saved.status_code == 200
    assert refused.status_code == 409
    assert refused["HX-Retarget"] == "#section-business_challenges"
    assert refused["HX-Reswap"] == "outerHTML"
    body = refused.content.decode()
    assert "First tab&#x27;s text</textarea>" in body  # the stored text, read-only
    assert "Second tab&#x27;s text</textarea>" in body  # yours, to merge
    assert 'name="base_version" value="2"' in body
    assert 'name="merge" value="1"' in body
    stored = section_of(brief, "business_challenges")
    assert (stored.text, stored.version) == ("First tab's text", 2)

    merged = second.post(
        section_url(brief),
        {"text": "First tab's text\n\nSecond tab's text", "base_version": "2", "merge": "1"},
        **HX,
    )

    assert merged.status_code == 200
    assert 'class="card brief-section"' in merged.content.decode()
    stored = section_of(brief, "business_challenges")
    assert stored.text == "First tab's text\n\nSecond tab's text"
    kinds = list(stored.revisions.values_list("kind", flat=True))
    assert kinds == ["merge", "edit"]


def test_a_conflict_without_htmx_shows_the_merge_page_with_409(alice, brief):
    services.save_section(
        section_of(brief, "business_challenges"), text="Stored", base_version=1, by=alice
    )
    client = Client()
    client.force_login(alice)

    response = client.post(section_url(brief), {"text": "Mine", "base_version": "1"})

    assert response.status_code == 409
    body = response.content.decode()
    assert "<html" in body
    assert "Stored</textarea>" in body
    assert "Mine</textarea>" in body
    assert "Save merged text" in body


def test_a_section_over_the_limit_is_refused_with_a_clear_error(alice_client, brief):
    too_long = {"text": "x" * 100_001, "base_version": "1"}

    with_htmx = alice_client.post(section_url(brief), too_long, **HX)
    without = alice_client.post(section_url(brief), too_long)

    assert with_htmx.status_code == 422
    assert "Not saved: This section is 100,001 characters long" in with_htmx.content.decode()
    assert without.status_code == 422
    assert "the limit is 100,000" in without.content.decode()
    assert ("x" * 100_001) + "</textarea>" in without.content.decode()  # the text is kept
    assert section_of(brief, "business_challenges").version == 1


def test_the_preview_renders_with_and_without_htmx(alice_client, brief):
    data = {"text": "**Bold** {inference}", "base_version": "1"}

    fragment = alice_client.post(section_url(brief, name="preview"), data, **HX)
    page = alice_client.post(section_url(brief, name="preview"), data)

    assert fragment.content.decode().strip() == (
        '<p><strong>Bold</strong> <span class="claim claim-inference">Our inference</span></p>'
    )
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert "<strong>Bold</strong>" in page.content.decode()
    assert "**Bold** {inference}</textarea>" in page.content.decode()
    assert section_of(brief, "business_challenges").version == 1  # a preview saves nothing


def test_the_section_page_works_with_and_without_htmx(alice_client, brief):
    page = alice_client.get(section_url(brief))
    card = alice_client.get(section_url(brief), **HX)

    assert "<html" in page.content.decode()
    assert "<html" not in card.content.decode()
    assert 'id="section-business_challenges"' in card.content.decode()


def test_history_lists_revisions_with_and_without_htmx(alice_client, alice, brief):
    services.save_section(
        section_of(brief, "business_challenges"), text="One", base_version=1, by=alice
    )
    page = alice_client.get(section_url(brief, name="history"))
    fragment = alice_client.get(section_url(brief, name="history"), **HX)

    assert "<html" in page.content.decode()
    assert "<html" not in fragment.content.decode()
    for body in (page.content.decode(), fragment.content.decode()):
        assert "Alice" in body
        assert "Edited" in body


def test_the_diff_view_and_restore(alice_client, alice, brief):
    section = section_of(brief, "business_challenges")
    old = services.save_section(section, text="alpha\nbeta", base_version=1, by=alice)
    services.save_section(section, text="alpha\ngamma", base_version=2, by=alice, kind="merge")
    url = reverse("briefs:revision", args=[brief.pk, section.key, old.pk])

    diff = alice_client.get(url + "?against=current").content.decode()
    assert '<span class="diff-del">- beta</span>' in diff
    assert '<span class="diff-add">+ gamma</span>' in diff
    assert "Restore version 2" in diff

    response = alice_client.post(
        reverse("briefs:restore", args=[brief.pk, section.key, old.pk]), {"base_version": "3"}
    )

    assert response.status_code == 302
    assert section_of(brief, "business_challenges").text == "alpha\nbeta"
    assert SectionRevision.objects.filter(section=section).count() == 3


def test_a_stale_restore_restores_nothing(alice_client, alice, brief):
    section = section_of(brief, "business_challenges")
    old = services.save_section(section, text="old", base_version=1, by=alice)
    services.save_section(section, text="new", base_version=2, by=alice, kind="merge")

    alice_client.post(
        reverse("briefs:restore", args=[brief.pk, section.key, old.pk]), {"base_version": "2"}
    )

    assert section_of(brief, "business_challenges").text == "new"


def test_the_read_view_shows_text_claims_and_red_flags(client, bob, alice, brief):
    services.save_section(
        section_of(brief, "business_challenges"), text=LONG_CHALLENGES, base_version=1, by=alice
    )
    client.force_login(bob)

    page = client.get(brief.get_absolute_url()).content.decode()

    assert "Customer said — Dana Buyer, 12 May" in page
    assert "Economic buyer never met" in page
    assert "No compelling event" in page
    assert "Edit brief" not in page


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
BIG = "Acme and their plans. " * 900  # about 20,000 characters: a complete section


def autosave(client, url, text: str, version: int) -> tuple[list[str], list[str]]:
    """One autosave over HTTP: its queries, and apart from them its transaction control."""
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, {"text": text, "base_version": str(version)}, **HX)
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    control = [s.split()[0] for s in sql if s.split()[0] in TRANSACTION_CONTROL]
    return [s for s in sql if s.split()[0] not in TRANSACTION_CONTROL], control


@pytest.mark.django_db(transaction=True)
def test_an_autosave_runs_at_most_six_queries_in_one_transaction(alice, brief):
    """In autocommit, as in production: session, user, section, the section's update and the
    revision's, inside save_section's own transaction (BEGIN … COMMIT, no savepoint)."""
    client = Client()
    client.force_login(alice)
    url = section_url(brief)
    autosave(client, url, BIG, 1)  # the section becomes complete (and the call's facts say so)

    for version, more in ((2, "x"), (3, "xy")):
        queries, control = autosave(client, url, BIG + more, version)
        assert len(queries) <= 6, queries
        assert control == ["BEGIN", "COMMIT"]


@pytest.mark.django_db(transaction=True)
def test_an_autosave_that_completes_a_section_updates_the_call_s_facts_in_its_transaction(
    alice, brief
):
    from callprep.dashboard.models import CallFact

    client = Client()
    client.force_login(alice)
    url = section_url(brief)
    autosave(client, url, "warm", 1)
    assert CallFact.objects.get(call=brief.call).sections_complete == 0

    queries, control = autosave(client, url, BIG, 2)

    fact = CallFact.objects.get(call=brief.call)
    assert (fact.sections_complete, fact.sections_required) == (1, 7)
    assert len(queries) <= 6 + 3, queries  # the facts: lock the call, read it, write its row
    assert control[0] == "BEGIN" and control[-1] == "COMMIT"


XSS = "\n\n".join(
    [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "[a](javascript:alert(1))",
        "[b](data:text/html;base64,PHNjcmlwdD4=)",
        "[c](javascript&#58;alert(1))",
        "{source: javascript:alert(1)}",
        "{said: <img src=x onerror=alert(1)>}",
        '"><script>alert(1)</script>',
        "</textarea><script>alert(1)</script>",
    ]
)


def test_hostile_text_is_inert_in_the_editor_preview_and_read_views(alice_client, alice, brief):
    section = section_of(brief, "business_challenges")
    deal = section_of(brief, "deal_check")
    services.save_section(section, text=XSS, base_version=1, by=alice)
    services.save_section(
        deal,
        text=XSS,
        fields={
            "pain": {"text": XSS, "confidence": "public_source", "evidence": "javascript:alert(1)"},
            "agenda": XSS,
        },
        base_version=deal.version,
        by=alice,
    )
    own_scripts = ("/static/js/", "/static/django_htmx/")
    pages = {
        "editor": alice_client.get(brief.get_edit_url()),
        "section": alice_client.get(section_url(brief)),
        "read": alice_client.get(brief.get_absolute_url()),
        "preview": alice_client.post(
            section_url(brief, name="preview"), {"text": XSS, "base_version": "2"}, **HX
        ),
        "preview page": alice_client.post(
            section_url(brief, name="preview"), {"text": XSS, "base_version": "2"}
        ),
        "history": alice_client.get(section_url(brief, name="history")),
        "conflict": alice_client.post(section_url(brief), {"text": XSS + "!", "base_version": "1"}),
    }
    for name, response in pages.items():
        assert response.status_code in {200, 409}, name
        html = response.content.decode()
        assert hostile_markup(html, allow_scripts_from=own_scripts) == [], name
        assert "<script>alert" not in html, name

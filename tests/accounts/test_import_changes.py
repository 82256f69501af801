"""A re-import shows each field's before and after, and never makes an account's data worse:
a broader industry or an empty cell keeps the current value unless the user ticks it."""

import re

import pytest
from django.db.models.signals import pre_save
from django.urls import reverse

from accounts import importing
from accounts.models import (
    Account,
    BuyingRole,
    Contact,
    ImportFile,
    ImportState,
    LessSpecific,
    less_specific,
    naics_within,
    naics_within_q,
)
from tests.accounts.test_import import do_import, preview_url, run_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind(alice, east):
    account = Account.objects.create(
        name="Northwind Fictional Freight",
        website="https://northwind-fict.example",
        domain="northwind-fict.example",
        external_id="NW-1",
        naics_code="484121",
        country="US",
        hq_city="Oslo",
        employees=1200,
        ticker="NWFF",
        owner=alice,
        team=east,
    )
    Contact.objects.create(
        account=account,
        name="Dana Buyer",
        email="dana@northwind-fict.example",
        title="CFO",
        phone="+1 555 0100",
        buying_role=BuyingRole.ECONOMIC_BUYER,
    )
    return account


def post_preview(client, url, **ticks):
    """Press "Update preview" with the automatic mapping and these boxes ticked."""
    stored = ImportFile.objects.get()
    data = {f"col_{i}": t for i, t in enumerate(importing.auto_mapping(stored.header))}
    response = client.post(url, {"action": "preview", **data, **ticks})
    assert response.status_code == 302
    return ImportFile.objects.get()


def changes(stored: ImportFile, number: int = 2) -> dict[str, dict]:
    return {c["field"]: c for c in stored.results.get(number=number).changes}


def row_html(html: str, line: int) -> str:
    """The preview's table row of one line of the file."""
    start = html.index(f'<td class="row-line">{line}</td>')
    return html[start : html.index("</tr>", start)]


# --- The one rule ---------------------------------------------------------------------------


def test_a_naics_group_tells_less_than_an_industry_within_it(northwind):
    for broader in ("48-49", "484", "4841", "48412"):
        assert less_specific(northwind, "naics_code", broader) == LessSpecific.INDUSTRY
    for other in ("484121", "484122", "4842", "334413", "5415"):
        assert less_specific(northwind, "naics_code", other) == ""
    # "48" is no NAICS code (the sector is 48-49): it is refused, not kept.
    assert less_specific(northwind, "naics_code", "48") == ""
    northwind.naics_code = "4841"
    assert less_specific(northwind, "naics_code", "484121") == ""  # more specific


def test_no_value_tells_less_than_a_value_and_anything_more_than_none(northwind):
    assert less_specific(northwind, "hq_city", "") == LessSpecific.EMPTY
    assert less_specific(northwind, "employees", None) == LessSpecific.EMPTY
    assert less_specific(northwind, "hq_city", "Bergen") == ""
    northwind.hq_city = ""
    assert less_specific(northwind, "hq_city", "") == ""
    assert less_specific(northwind, "hq_city", "Bergen") == ""
    contact = northwind.contacts.get()
    assert less_specific(contact, "buying_role", BuyingRole.UNKNOWN) == LessSpecific.EMPTY


def test_the_industry_filter_and_the_rule_agree_on_what_lies_within_a_sector(northwind):
    within = Account.objects.filter(naics_within_q("48-49"))
    assert list(within) == [northwind]
    assert naics_within("484121", "48-49") and not naics_within("484121", "31-33")
    assert not Account.objects.filter(naics_within_q("31-33")).exists()


# --- A broader industry ---------------------------------------------------------------------

SECTOR_OVER_DETAIL = (
    "Account Name,Website,Industry\n"
    "Northwind Fictional Freight,northwind-fict.example,Transportation\n"
)


def test_a_sector_over_a_six_digit_code_keeps_the_six_digit_code(alice_client, northwind):
    url = preview_url(alice_client, SECTOR_OVER_DETAIL)
    stored = ImportFile.objects.get()

    assert changes(stored) == {
        "naics_code": {
            "field": "naics_code",
            "label": "Industry (NAICS 2022)",
            "before": "484121 General Freight Trucking, Long-Distance, Truckload",
            "after": "48-49 Transportation and Warehousing",
            "less": "industry",
            "kept": True,
        }
    }
    assert stored.broader_industry_rows == 1
    html = row_html(alice_client.get(url).content.decode(), 2)
    assert "484121 General Freight Trucking, Long-Distance, Truckload" in html
    assert "kept (less specific)" in html
    assert "48-49 Transportation and Warehousing" in html

    do_import(alice_client, url)

    northwind.refresh_from_db()
    assert northwind.naics_code == "484121"
    assert ImportFile.objects.get().results.get().changes == stored.results.get().changes


@pytest.mark.parametrize("code", ["48-49", "4841"])
def test_a_broader_naics_code_column_keeps_the_code_too(alice_client, northwind, code):
    do_import(
        alice_client,
        preview_url(alice_client, f"Account Name,NAICS Code\nNorthwind Fictional Freight,{code}\n"),
    )

    northwind.refresh_from_db()
    assert northwind.naics_code == "484121"


def test_ticked_the_sector_replaces_the_six_digit_code_and_the_preview_shows_it(
    alice_client, northwind
):
    url = preview_url(alice_client, SECTOR_OVER_DETAIL)

    stored = post_preview(alice_client, url, replace_with_broader_industry="on")

    assert stored.replace_with_broader_industry and not stored.clear_where_empty
    change = changes(stored)["naics_code"]
    assert (change["before"], change["after"], change["kept"]) == (
        "484121 General Freight Trucking, Long-Distance, Truckload",
        "48-49 Transportation and Warehousing",
        False,
    )
    html = row_html(alice_client.get(url).content.decode(), 2)
    assert '<del class="change-before">484121 General Freight Trucking' in html
    assert '<ins class="change-after">48-49 Transportation and Warehousing</ins>' in html
    assert "kept (less specific)" not in html
    page = alice_client.get(url).content.decode()
    assert re.search(
        r'<input type="checkbox" name="replace_with_broader_industry"[^>]* checked', page
    )
    assert not re.search(r'<input type="checkbox" name="clear_where_empty"[^>]* checked', page)

    do_import(alice_client, url, replace_with_broader_industry="on")

    northwind.refresh_from_db()
    assert northwind.naics_code == "48-49"


def test_a_more_specific_or_another_industry_replaces_the_current_one(alice_client, northwind):
    northwind.naics_code = "4841"
    northwind.save()

    do_import(
        alice_client,
        preview_url(alice_client, "Account Name,NAICS Code\nNorthwind Fictional Freight,484122\n"),
    )

    northwind.refresh_from_db()
    assert northwind.naics_code == "484122"
    do_import(
        alice_client,
        preview_url(alice_client, "Account Name,NAICS Code\nNorthwind Fictional Freight,334413\n"),
    )
    northwind.refresh_from_db()
    assert northwind.naics_code == "334413"


# --- An empty cell --------------------------------------------------------------------------

EMPTY_CELLS = (
    "Account Name,Website,Billing City,Employees,Ticker Symbol,Industry,"
    "Email,Title,Phone,Buying Role\n"
    "Northwind Fictional Freight,northwind-fict.example,,,,,dana@northwind-fict.example,,,\n"
)


def test_empty_cells_keep_the_values_of_the_account_and_its_contact(alice_client, northwind):
    url = preview_url(alice_client, EMPTY_CELLS)
    stored = ImportFile.objects.get()

    kept = changes(stored)
    assert {k: (c["before"], c["kept"], c["less"]) for k, c in kept.items()} == {
        "hq_city": ("Oslo", True, "empty"),
        "employees": ("1,200", True, "empty"),
        "ticker": ("NWFF", True, "empty"),
        "naics_code": (
            "484121 General Freight Trucking, Long-Distance, Truckload",
            True,
            "empty",
        ),
        "contact_title": ("CFO", True, "empty"),
        "contact_phone": ("+1 555 0100", True, "empty"),
        "contact_buying_role": ("Economic buyer", True, "empty"),
    }
    assert stored.empty_cell_rows == 1
    html = row_html(alice_client.get(url).content.decode(), 2)
    assert html.count("kept (less specific)") == 7
    assert "the file has an empty cell" in html

    do_import(alice_client, url)

    northwind.refresh_from_db()
    assert (northwind.hq_city, northwind.employees, northwind.ticker, northwind.naics_code) == (
        "Oslo",
        1200,
        "NWFF",
        "484121",
    )
    dana = northwind.contacts.get()
    assert (dana.title, dana.phone, dana.buying_role) == (
        "CFO",
        "+1 555 0100",
        BuyingRole.ECONOMIC_BUYER,
    )


def test_ticked_empty_cells_clear_the_values(alice_client, northwind):
    url = preview_url(alice_client, EMPTY_CELLS)

    stored = post_preview(alice_client, url, clear_where_empty="on")

    assert not any(c["kept"] for c in changes(stored).values())
    html = row_html(alice_client.get(url).content.decode(), 2)
    assert '<del class="change-before">Oslo</del>' in html
    assert '<ins class="change-after">(empty)</ins>' in html

    do_import(alice_client, url, clear_where_empty="on")

    northwind.refresh_from_db()
    assert (northwind.hq_city, northwind.employees, northwind.ticker) == ("", None, "")
    # Only the boxes ticked: the empty industry cell clears, a broader one would not.
    assert northwind.naics_code == ""
    dana = northwind.contacts.get()
    assert (dana.title, dana.phone, dana.buying_role) == ("", "", BuyingRole.UNKNOWN)


def test_a_column_not_in_the_file_changes_nothing_and_is_not_listed(alice_client, northwind):
    url = preview_url(
        alice_client, "Account Name,Website\nNorthwind Fictional Freight,northwind-fict.example\n"
    )

    assert ImportFile.objects.get().results.get().changes == []
    assert "no change" in row_html(alice_client.get(url).content.decode(), 2)


def test_a_domain_column_keeps_the_fuller_website_at_that_domain(alice_client, northwind):
    northwind.website = "https://www.northwind-fict.example/en"
    northwind.save()

    do_import(
        alice_client,
        preview_url(
            alice_client,
            "Company name,Company Domain Name\n"
            "Northwind Fictional Freight,northwind-fict.example\n",
        ),
    )

    northwind.refresh_from_db()
    assert northwind.website == "https://www.northwind-fict.example/en"


# --- Before and after -----------------------------------------------------------------------


def test_the_preview_shows_a_changed_name_website_and_country(alice_client, northwind):
    url = preview_url(
        alice_client,
        "Account ID,Account Name,Website,Billing Country,Title\n"
        "NW-1,Northwind Freight Holdings,https://nwf-fict.example,Norway,CEO\n",
    )

    found = changes(ImportFile.objects.get())
    assert {k: (c["label"], c["before"], c["after"]) for k, c in found.items()} == {
        "name": ("Name", "Northwind Fictional Freight", "Northwind Freight Holdings"),
        "website": ("Website", "https://northwind-fict.example", "https://nwf-fict.example"),
        "country": ("Country", "United States (US)", "Norway (NO)"),
    }
    html = row_html(alice_client.get(url).content.decode(), 2)
    for before, after in (
        ("Northwind Fictional Freight", "Northwind Freight Holdings"),
        ("https://northwind-fict.example", "https://nwf-fict.example"),
        ("United States (US)", "Norway (NO)"),
    ):
        assert f'<del class="change-before">{before}</del>' in html
        assert f'<ins class="change-after">{after}</ins>' in html


def test_the_preview_shows_a_contacts_changes(alice_client, northwind):
    url = preview_url(
        alice_client,
        "Account Name,Email,Full Name,Title\n"
        "Northwind Fictional Freight,dana@northwind-fict.example,Dana Buyer-Smith,CEO\n",
    )

    found = changes(ImportFile.objects.get())
    assert {k: (c["label"], c["before"], c["after"]) for k, c in found.items()} == {
        "contact_name": ("Contact name", "Dana Buyer", "Dana Buyer-Smith"),
        "contact_title": ("Contact title", "CFO", "CEO"),
    }
    assert "Contact title:" in row_html(alice_client.get(url).content.decode(), 2)


def test_html_in_a_cell_or_a_stored_value_is_shown_escaped(alice_client, northwind):
    northwind.description = "<b onmouseover=alert(2)>old</b>"
    northwind.save()
    url = preview_url(
        alice_client,
        "Account ID,Account Name,Description\n"
        'NW-1,"<script>alert(1)</script>",<img src=x onerror=alert(3)>\n',
    )

    html = alice_client.get(url).content.decode()

    assert (
        "<script>alert(1)" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    )
    row = row_html(html, 2)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert "&lt;img src=x onerror=alert(3)&gt;" in row
    assert "&lt;b onmouseover=alert(2)&gt;old&lt;/b&gt;" in row


def test_reimporting_an_unchanged_file_saves_nothing_and_says_so(alice_client, northwind):
    stamp = northwind.updated_at
    url = preview_url(
        alice_client,
        "Account Name,Website,Industry,Email\n"
        "Northwind Fictional Freight,northwind-fict.example,484121,dana@northwind-fict.example\n",
    )
    assert "no change" in row_html(alice_client.get(url).content.decode(), 2)

    do_import(alice_client, url)

    northwind.refresh_from_db()
    assert northwind.updated_at == stamp
    assert ImportFile.objects.get().updated_count == 1


# --- The worker gives what the dry run showed -----------------------------------------------

MIXED = (
    "Account ID,Account Name,Website,NAICS Code,Billing City,Email,Title\n"
    # sector over the detail, an empty city: both kept unless ticked
    "NW-1,Northwind Fictional Freight,northwind-fict.example,48-49,,dana@northwind-fict.example,\n"
    # a new account, then the same one again: its industry made broader, its city emptied
    "Q-1,Quayside Fictional,quay-fict.example,334413,Bergen,kim@quay-fict.example,CTO\n"
    "Q-1,Quayside Fictional,quay-fict.example,3344,,kim@quay-fict.example,\n"
    # a real change after the kept ones
    "NW-1,Northwind Fictional Freight,northwind-fict.example,484122,Tromsø,,\n"
)


@pytest.mark.parametrize(
    "ticks",
    [
        {},
        {"replace_with_broader_industry": "on"},
        {"clear_where_empty": "on"},
        {"replace_with_broader_industry": "on", "clear_where_empty": "on"},
    ],
)
def test_the_worker_import_gives_what_the_dry_run_showed(alice_client, northwind, settings, ticks):
    settings.CSV_IMPORT_BATCH_ROWS = 2  # the rows that depend on each other fall in two batches
    url = preview_url(alice_client, MIXED)
    stored = post_preview(alice_client, url, **ticks) if ticks else ImportFile.objects.get()
    verdicts = ("number", "action", "contact_action", "errors", "changes")
    rehearsed = list(stored.results.values_list(*verdicts))

    do_import(alice_client, url, **ticks)

    assert ImportFile.objects.get().state == ImportState.DONE
    assert list(stored.results.values_list(*verdicts)) == rehearsed
    quay = Account.objects.get(external_id="Q-1")
    northwind.refresh_from_db()
    broader, empty = "replace_with_broader_industry" in ticks, "clear_where_empty" in ticks
    assert quay.naics_code == ("3344" if broader else "334413")
    assert quay.hq_city == ("" if empty else "Bergen")
    assert quay.contacts.get().title == ("" if empty else "CTO")
    assert (northwind.naics_code, northwind.hq_city) == ("484122", "Tromsø")
    assert northwind.contacts.get().title == ("" if empty else "CFO")
    kinds = {c["field"]: c["kept"] for c in rehearsed[0][4]}
    assert kinds == {"naics_code": not broader, "hq_city": not empty, "contact_title": not empty}


def test_the_ticks_are_kept_for_the_worker_even_when_the_page_is_left(alice_client, northwind):
    url = preview_url(alice_client, SECTOR_OVER_DETAIL)
    post_preview(alice_client, url, replace_with_broader_industry="on")
    # The worker reads the choice from the stored upload, not from the request.
    stored = ImportFile.objects.get()
    importing.queue_import(stored)
    run_worker()

    northwind.refresh_from_db()
    assert northwind.naics_code == "48-49"


# --- Bounded work ---------------------------------------------------------------------------


def updates(count: int) -> str:
    return "Account Name,Website,Billing City,Industry\n" + "".join(
        f"Update Fictional {n},update-{n}.example,,Transportation\n" for n in range(count)
    )


def test_the_preview_of_updates_costs_the_same_queries_for_3_rows_as_for_300(
    alice_client, alice, east, django_assert_max_num_queries
):
    Account.objects.bulk_create(
        Account(
            name=f"Old {n}",
            website=f"https://update-{n}.example",
            domain=f"update-{n}.example",
            naics_code="484121",
            hq_city="Oslo",
            owner=alice,
            team=east,
        )
        for n in range(300)
    )
    small = preview_url(alice_client, updates(3))
    with django_assert_max_num_queries(12) as small_queries:
        alice_client.get(small)
    small_count = len(small_queries)
    large = preview_url(alice_client, updates(300))

    with django_assert_max_num_queries(small_count):
        response = alice_client.get(large)

    assert response.context["report"].updated_count == 300
    assert response.content.decode().count("kept (less specific)") == 200  # 100 rows a page
    assert reverse("accounts:import_preview", args=[ImportFile.objects.get().pk]) == large


def test_a_row_conflicting_at_save_time_fails_alone_in_its_batch(alice_client, charlie, settings):
    """The batch saves its rows without a savepoint each; when one conflicts with an account
    saved between the batch's read and its write, the batch is saved again row by row."""
    settings.CSV_IMPORT_BATCH_ROWS = 3
    url = preview_url(
        alice_client,
        "Account Name,Website\n"
        "Race Fictional 0,race-0.example\nRace Fictional 1,race-1.example\n"
        "Race Fictional 2,race-2.example\n",
    )

    def someone_else_takes_the_domain(sender, instance, **kwargs):
        if instance.name == "Race Fictional 1":  # just after the batch read the accounts
            Account.objects.get_or_create(
                domain="race-1.example",
                defaults={"name": "Taken", "website": "https://race-1.example", "owner": charlie},
            )

    pre_save.connect(someone_else_takes_the_domain, sender=Account)
    try:
        do_import(alice_client, url)
    finally:
        pre_save.disconnect(someone_else_takes_the_domain, sender=Account)

    stored = ImportFile.objects.get()
    assert (stored.state, stored.created_count, stored.failed_count) == (ImportState.DONE, 2, 1)
    assert stored.results.get(number=3).errors == [
        "This row conflicts with a change saved since the preview "
        "(a domain or an e-mail address taken meanwhile)."
    ]
    # (The other writer's account went with the row's savepoint: here it wrote in the same
    # transaction.)
    assert sorted(Account.objects.values_list("name", flat=True)) == [
        "Race Fictional 0",
        "Race Fictional 2",
    ]


def test_a_batch_of_new_rows_costs_two_writes_a_row(alice, django_assert_max_num_queries):
    header, rows = importing.read_rows(
        "Account Name,Website,Email\n"
        + "".join(f"Cost Fictional {n},cost-{n}.example,pat@cost-{n}.example\n" for n in range(50))
    )
    stored = importing.keep_upload(alice, filename="cost.csv", encoding="utf-8", text="x\ny\n")
    stored.mapping = importing.auto_mapping(header)

    with django_assert_max_num_queries(2 * 50 + 15):  # it was 4 a row
        importing.import_batch(stored, rows, first_number=2)

    assert Account.objects.count() == Contact.objects.count() == 50


def test_an_admin_sees_the_owner_and_the_fiscal_year_a_row_changes(client, ada, bob, northwind):
    client.force_login(ada)
    url = preview_url(
        client,
        "Account ID,Account Name,Account Owner,Fiscal Year End\n"
        "NW-1,Northwind Fictional Freight,bob,March\n",
    )

    found = changes(ImportFile.objects.get())
    assert {k: (c["before"], c["after"]) for k, c in found.items()} == {
        "owner": ("Alice", "Bob"),
        "fiscal_year_end": ("", "March"),
    }
    html = row_html(client.get(url).content.decode(), 2)
    assert '<del class="change-before">Alice</del>' in html
    assert '<ins class="change-after">March</ins>' in html

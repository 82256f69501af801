import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import importing, tasks
from accounts.models import Account, Contact, ImportFile, ImportRowResult, ImportState

pytestmark = pytest.mark.django_db

SALESFORCE = (
    "Account ID,Account Name,Website,Industry,Billing City,Billing Country,Employees,"
    "Ticker Symbol,First Name,Last Name,Title,Email\n"
    "001A,Acme Fictional Corp,www.acme-fict.example,Technology,Boston,United States,1200,ACF,"
    "Dana,Buyer,CFO,dana@acme-fict.example\n"
    "001A,Acme Fictional Corp,www.acme-fict.example,Technology,Boston,United States,1200,ACF,"
    "Chris,Champion,VP IT,chris@acme-fict.example\n"
    "001B,Globex Fictional AG,https://globex-fict.example,Manufacturing,Zürich,Switzerland,"
    "5000,,,,,\n"
)
HUBSPOT = (
    "Record ID,Company name,Company Domain Name,Industry,City,Country/Region,"
    "Number of Employees,Description\n"
    "9001,Initech Fictional,initech-fict.example,COMPUTER_SOFTWARE,Austin,USA,300,Fictional\n"
    "9002,Umbrella Fictional plc,umbrella-fict.example,541511,London,UK,80,\n"
)


def upload(client, content: bytes | str, name="export.csv"):
    if isinstance(content, str):
        content = content.encode()
    return client.post(
        reverse("accounts:import"), {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def preview_url(client, content, name="export.csv"):
    response = upload(client, content, name)
    assert response.status_code == 302, response.content.decode()
    return response.url


def do_import(client, url, **extra):
    stored = ImportFile.objects.get()
    header, _ = importing.read_rows(stored.content)
    data = {f"col_{i}": t for i, t in enumerate(importing.auto_mapping(header))}
    data.update({"action": "import", **extra})
    response = client.post(url, data)
    run_worker()
    return response


def run_worker():
    """What the worker does with the imports handed to it (the task, run in the test)."""
    for pk in ImportFile.objects.filter(state=ImportState.QUEUED).values_list("pk", flat=True):
        tasks.import_upload.run(pk)


def test_salesforce_headers_are_mapped_automatically():
    header = ["Account Name", "Website", "Industry", "Billing Country", "Account ID", "Email"]

    assert importing.auto_mapping(header) == [
        "name",
        "website",
        "industry",
        "country",
        "external_id",
        "contact_email",
    ]


def test_hubspot_headers_are_mapped_automatically():
    header = ["Company name", "Company Domain Name", "Country/Region", "Record ID", "City"]

    assert importing.auto_mapping(header) == ["name", "domain", "country", "external_id", "hq_city"]


def test_a_salesforce_export_previews_then_imports_accounts_and_contacts(alice_client, alice):
    url = preview_url(alice_client, SALESFORCE)

    preview = alice_client.get(url)
    assert preview.status_code == 200
    assert preview.context["report"].created_count == 2
    assert not Account.objects.exists()  # the preview writes nothing

    response = do_import(alice_client, url)

    assert response.status_code == 302
    acme = Account.objects.get(name="Acme Fictional Corp")
    assert acme.domain == "acme-fict.example"
    assert acme.country == "US"
    assert acme.naics_code == "5415"
    assert acme.ticker == "ACF"
    assert acme.external_id == "001A"
    assert acme.owner == alice
    assert acme.team.name == "East"
    assert sorted(acme.contacts.values_list("email", flat=True)) == [
        "chris@acme-fict.example",
        "dana@acme-fict.example",
    ]
    assert Account.objects.get(name="Globex Fictional AG").country == "CH"
    assert ImportFile.objects.get().state == ImportState.DONE


def test_a_hubspot_export_imports_with_domains_and_country_aliases(alice_client):
    url = preview_url(alice_client, HUBSPOT)

    do_import(alice_client, url)

    initech = Account.objects.get(domain="initech-fict.example")
    assert initech.website == "https://initech-fict.example"
    assert initech.country == "US"
    assert initech.naics_code == ""  # COMPUTER_SOFTWARE is not NAICS: a warning, not an error
    assert Account.objects.get(domain="umbrella-fict.example").country == "GB"


def test_reimporting_the_same_file_updates_instead_of_duplicating(alice_client):
    do_import(alice_client, preview_url(alice_client, SALESFORCE))
    changed = SALESFORCE.replace("Boston", "Cambridge")

    do_import(alice_client, preview_url(alice_client, changed))

    assert Account.objects.count() == 2
    assert Contact.objects.count() == 2
    assert Account.objects.get(name="Acme Fictional Corp").hq_city == "Cambridge"


def test_reimport_matches_on_crm_id_then_exact_name(alice_client, alice, east):
    by_id = Account.objects.create(name="Old name", external_id="9001", owner=alice, team=east)
    by_name = Account.objects.create(name="Umbrella Fictional plc", owner=alice, team=east)

    do_import(alice_client, preview_url(alice_client, HUBSPOT))

    assert Account.objects.count() == 2
    by_id.refresh_from_db()
    by_name.refresh_from_db()
    assert by_id.name == "Initech Fictional"
    assert by_name.domain == "umbrella-fict.example"


def test_a_failing_row_leaves_the_database_unchanged(alice_client):
    bad = SALESFORCE + "001C,Broken Fictional,https://broken.example,,,Atlantis,lots,,,,,\n"
    url = preview_url(alice_client, bad)

    response = do_import(alice_client, url)

    assert response.status_code == 200
    assert not Account.objects.exists()
    assert not Contact.objects.exists()
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert "Unknown country “Atlantis”" in html
    assert "Employees must be a whole number" in html
    assert response.context["report"].failed_count == 1
    assert [row.number for row in response.context["page"] if not row.ok] == [5]


def test_import_valid_rows_only_skips_the_failing_rows(alice_client):
    bad = SALESFORCE + "001C,Broken Fictional,https://broken.example,,,Atlantis,,,,,,\n"
    url = preview_url(alice_client, bad)

    response = do_import(alice_client, url, valid_only="on")

    assert response.status_code == 302
    assert Account.objects.count() == 2
    assert not Account.objects.filter(name="Broken Fictional").exists()


def test_a_row_matching_someone_elses_account_is_an_error(alice_client, westwind):
    url = preview_url(alice_client, "Company name,Company Domain Name\nWestwind,westwind.example\n")

    response = do_import(alice_client, url)

    assert "matches an account you cannot change" in response.content.decode()
    westwind.refresh_from_db()
    assert westwind.name == "Westwind Fictional GmbH"


def test_a_bad_naics_code_column_is_an_error(alice_client):
    url = preview_url(alice_client, "Account Name,NAICS Code\nFoo,999999\n")

    response = do_import(alice_client, url)

    assert "999999 is not a NAICS 2022 code" in response.content.decode()
    assert not Account.objects.exists()


def test_a_missing_required_column_is_reported_and_blocks_the_import(alice_client):
    url = preview_url(alice_client, "Website,Industry\nhttps://x.example,Retail\n")

    page = alice_client.get(url)
    response = alice_client.post(url, {"col_0": "website", "col_1": "industry", "action": "import"})

    assert page.context["report"] is None  # no rehearsal without a name column
    assert "No column is mapped to “Account name”" in page.content.decode()
    assert response.status_code == 200
    assert "No column is mapped to “Account name”" in response.content.decode()
    assert not Account.objects.exists()


def test_the_user_can_change_the_mapping(alice_client):
    url = preview_url(alice_client, "Firm,Web\nRemapped Fictional,remapped.example\n")

    response = alice_client.post(url, {"col_0": "name", "col_1": "website", "action": "import"})
    run_worker()

    assert response.status_code == 302
    assert Account.objects.get().domain == "remapped.example"


def test_two_columns_for_one_field_are_refused(alice_client):
    url = preview_url(alice_client, "A,B\nx,y\n")

    response = alice_client.post(url, {"col_0": "name", "col_1": "name", "action": "import"})

    assert "More than one column is mapped" in response.content.decode()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252"])
def test_utf8_with_or_without_bom_and_latin1_are_read(alice_client, encoding):
    text = "Account Name,Billing City,Billing Country\nCafé Fictional,Zürich,Switzerland\n"

    do_import(alice_client, preview_url(alice_client, text.encode(encoding)))

    account = Account.objects.get()
    assert account.name == "Café Fictional"
    assert account.hq_city == "Zürich"


def test_a_utf16_file_is_refused_with_a_clear_message(alice_client):
    response = upload(alice_client, "Account Name\nFoo\n".encode("utf-16"))

    assert response.status_code == 200
    assert "not UTF-8 or Latin-1 text" in response.content.decode()
    assert not ImportFile.objects.exists()


def test_a_spreadsheet_is_refused(alice_client):
    response = upload(alice_client, b"PK\x03\x04" + b"x" * 100, "export.xlsx")

    assert "This is a spreadsheet" in response.content.decode()


def test_a_file_over_5_mb_is_refused(alice_client):
    big = "Account Name\n" + ("x" * 99 + "\n") * 53_000

    response = upload(alice_client, big)

    assert response.status_code == 200
    assert "larger than 5 MB" in response.content.decode()
    assert not ImportFile.objects.exists()


def test_an_empty_file_is_refused(alice_client):
    assert "The submitted file is empty." in upload(alice_client, b"").content.decode()
    assert "The file is empty" in upload(alice_client, b"\n\n").content.decode()
    assert "no data rows" in upload(alice_client, "Account Name\n").content.decode()


def test_semicolon_separated_files_are_read(alice_client):
    url = preview_url(alice_client, "Account Name;Billing Country\nSemi Fictional;France\n")

    do_import(alice_client, url)

    assert Account.objects.get().country == "FR"


def test_someone_elses_upload_is_not_found(alice_client, client, bob):
    url = preview_url(alice_client, SALESFORCE)
    client.force_login(bob)

    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "import"}).status_code == 404
    assert not Account.objects.exists()


@pytest.mark.parametrize("who", ["mallory", "victor", "nobody"])
def test_only_reps_and_admins_import(client, request, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("accounts:import")).status_code == 403
    assert upload(client, SALESFORCE).status_code == 403


def test_import_requires_sign_in(client, db):
    assert client.get(reverse("accounts:import")).status_code == 302


def test_an_admin_import_assigns_owners_by_username(client, ada, alice):
    client.force_login(ada)
    url = preview_url(client, "Account Name,Account Owner\nOwned Fictional,alice\n")

    do_import(client, url)

    assert Account.objects.get().owner == alice


# --- Bounded work ---------------------------------------------------------------------------


def many_rows(count: int) -> str:
    return "Account Name,Website\n" + "".join(
        f"Bulk Fictional {n},bulk-{n}.example\n" for n in range(count)
    )


def test_a_file_of_20000_columns_is_refused_naming_the_limit(alice_client):
    header = ",".join(f"c{n}" for n in range(20_000))

    response = upload(alice_client, f"{header}\n{',' * 19_999}x\n")

    assert response.status_code == 200
    assert "This file has 20,000 columns; the import reads at most 200." in (
        response.content.decode()
    )
    assert not ImportFile.objects.exists()


def test_a_data_row_wider_than_the_limit_is_refused_too(alice_client):
    response = upload(alice_client, "Account Name\nx" + "," * 250 + "\n")

    assert "This file has 251 columns; the import reads at most 200." in (response.content.decode())


def test_a_file_of_50001_rows_is_refused_naming_the_limit(alice_client):
    response = upload(alice_client, "Account Name\n" + "x\n" * 50_001)

    assert response.status_code == 200
    assert "This file has more than 50,000 data rows; the import reads at most 50,000." in (
        response.content.decode()
    )
    assert not ImportFile.objects.exists()


def test_the_limits_come_from_the_settings(alice_client, settings):
    settings.CSV_IMPORT_MAX_COLUMNS = 2
    settings.CSV_IMPORT_MAX_ROWS = 3

    wide = upload(alice_client, "Account Name,Website,City\nx,y,z\n").content.decode()
    long = upload(alice_client, "Account Name\na\nb\nc\nd\n").content.decode()

    assert "This file has 3 columns; the import reads at most 2." in wide
    assert "more than 3 data rows; the import reads at most 3." in long
    assert preview_url(alice_client, "Account Name\na\nb\nc\n")


def test_the_upload_rehearses_the_import_once_and_keeps_the_result(alice_client):
    preview_url(alice_client, SALESFORCE)

    stored = ImportFile.objects.get()
    assert stored.header[:2] == ["Account ID", "Account Name"]
    assert stored.row_count == 3
    assert (stored.created_count, stored.updated_count, stored.failed_count) == (2, 1, 0)
    assert list(stored.results.values_list("number", "action")) == [
        (2, "create"),
        (3, "update"),
        (4, "create"),
    ]
    assert not Account.objects.exists()


def test_the_preview_page_shows_the_stored_dry_run_without_rehearsing_again(alice_client):
    url = preview_url(alice_client, SALESFORCE)
    stored = ImportFile.objects.get()
    # Had the page rehearsed the import again, it would show "Acme Fictional Corp" and no error.
    stored.results.filter(number=2).update(name="Stored Name", errors=["Stored error."])

    html = alice_client.get(url).content.decode()

    assert "Stored Name" in html
    assert "Stored error." in html


def test_the_preview_page_costs_the_same_queries_for_3_rows_as_for_300(
    alice_client, django_assert_max_num_queries
):
    small = preview_url(alice_client, many_rows(3))
    with django_assert_max_num_queries(12) as small_queries:
        alice_client.get(small)
    small_count = len(small_queries)  # read now: the next request resets the log
    large = preview_url(alice_client, many_rows(300))

    with django_assert_max_num_queries(small_count):
        response = alice_client.get(large)

    assert response.context["report"].created_count == 300


def test_the_preview_shows_100_rows_a_page(alice_client):
    url = preview_url(alice_client, many_rows(250))

    first = alice_client.get(url)
    third = alice_client.get(url, {"page": "3"})

    assert [row.number for row in first.context["page"]] == list(range(2, 102))
    assert [row.number for row in third.context["page"]] == list(range(202, 252))
    assert "Page 3 of 3" in third.content.decode()
    # A page that is not a number, or past the end, shows the first or the last page.
    assert alice_client.get(url, {"page": "x"}).context["page"].number == 1
    assert alice_client.get(url, {"page": "99"}).context["page"].number == 3


def test_the_preview_can_show_only_the_rows_with_errors(alice_client):
    bad = many_rows(150) + "Broken Fictional,https://broken.example,\n"
    bad = bad.replace("Account Name,Website", "Account Name,Website,Billing Country")
    bad = bad.replace("https://broken.example,", "https://broken.example,Atlantis")
    url = preview_url(alice_client, bad)

    page = alice_client.get(url, {"errors": "1"}).context["page"]

    assert [row.number for row in page] == [152]
    assert page[0].errors == ["Country: Unknown country “Atlantis”."]


def test_a_new_mapping_is_rehearsed_once_and_kept_for_the_preview(alice_client):
    url = preview_url(alice_client, "Firm,Web\nRemapped Fictional,remapped.example\n")
    assert ImportFile.objects.get().mapping_problems  # no column is the account name yet

    response = alice_client.post(url, {"col_0": "name", "col_1": "website", "action": "preview"})

    assert response.status_code == 302
    stored = ImportFile.objects.get()
    assert stored.mapping == ["name", "website"]
    assert stored.mapping_problems == []
    assert stored.created_count == 1
    html = alice_client.get(url).content.decode()
    first_select = html[html.index('<select name="col_0"') : html.index('<select name="col_1"')]
    assert '<option value="name" selected>' in first_select
    assert not Account.objects.exists()


def test_an_upload_kept_before_dry_runs_were_stored_is_rehearsed_once(alice_client, alice):
    stored = ImportFile.objects.create(
        user=alice, filename="old.csv", encoding="utf-8", content=many_rows(2)
    )
    url = reverse("accounts:import_preview", args=[stored.pk])

    alice_client.get(url)
    stored.refresh_from_db()
    kept = stored.previewed_at
    alice_client.get(url)

    assert stored.created_count == 2
    stored.refresh_from_db()
    assert stored.previewed_at == kept


def test_an_upload_over_limits_lowered_since_is_dropped_with_a_message(
    alice_client, alice, settings
):
    stored = ImportFile.objects.create(
        user=alice, filename="old.csv", encoding="utf-8", content=many_rows(5)
    )
    settings.CSV_IMPORT_MAX_ROWS = 3

    response = alice_client.get(reverse("accounts:import_preview", args=[stored.pk]), follow=True)

    assert "old.csv cannot be imported: This file has more than 3 data rows" in (
        response.content.decode()
    )
    assert not ImportFile.objects.exists()


# --- A dry run that reads only ------------------------------------------------------------


def snapshot() -> list:
    """Every account and contact as stored, to prove a dry run changed none of them."""
    return [
        list(Account.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
    ]


def mixed_rows(count: int) -> str:
    """With an account for every even n: 600 rows update one (by domain; every tenth row
    repeats an earlier one) and 400 create one; each row adds or updates a contact."""
    lines = ["Account Name,Website,Billing Country,Email,First Name"]
    for n in range(count):
        m = n - 5 if n % 10 == 9 else n
        lines.append(f"Mixed Fictional {m},mixed-{m}.example,France,p{m}@mixed-{m}.example,P{m}")
    return "\n".join(lines) + "\n"


def test_a_dry_run_writes_nothing(alice, east):
    for n in range(0, 1000, 2):
        account = Account.objects.create(
            name=f"Old {n}",
            website=f"https://mixed-{n}.example",
            domain=f"mixed-{n}.example",
            owner=alice,
            team=east,
        )
        Contact.objects.create(account=account, name="Someone", email=f"p{n}@mixed-{n}.example")
    header, rows = importing.read_rows(mixed_rows(1000))
    before = snapshot()

    report = importing.dry_run(rows, importing.auto_mapping(header), user=alice, team=None)

    assert (report.created, report.updated, len(report.failed)) == (400, 600, 0)
    assert snapshot() == before


def test_a_dry_run_of_1000_rows_costs_a_bounded_number_of_queries(
    alice, east, django_assert_max_num_queries
):
    for n in range(0, 1000, 2):
        Account.objects.create(
            name=f"Old {n}",
            website=f"https://mixed-{n}.example",
            domain=f"mixed-{n}.example",
            owner=alice,
            team=east,
        )
    header, rows = importing.read_rows(mixed_rows(1000))

    with django_assert_max_num_queries(8):
        importing.dry_run(rows, importing.auto_mapping(header), user=alice, team=None)


TRICKY = (
    "Account ID,Account Name,Website,Email,Full Name,Employees\n"
    # a new account, then the same one by CRM id, renamed and given a website
    "X1,Tricky New,,,,10\n"
    "X1,Tricky Renamed,tricky.example,,,20\n"
    # the renamed account found by its new name and then by its new domain
    ",Tricky Renamed,,,Pat,\n"
    ",Someone Else,tricky.example,pat@tricky.example,Pat,\n"
    # an existing account matched by name, then a failing row that must not change it
    ",Existing Fictional,,,,\n"
    ",Existing Fictional,,,,lots\n"
    ",Existing Fictional,existing.example,,,5\n"
    # a new account with a new contact
    ",Phone Fictional,,,Kim,\n"
)


def test_the_dry_run_and_the_import_give_the_same_verdicts(alice_client, alice, east, settings):
    settings.CSV_IMPORT_BATCH_ROWS = 3  # rows that depend on each other fall in other batches
    existing = Account.objects.create(name="Existing Fictional", owner=alice, team=east)
    url = preview_url(alice_client, TRICKY)
    stored = ImportFile.objects.get()
    verdicts = ("number", "action", "contact_action", "errors")
    rehearsed = list(stored.results.values_list(*verdicts))

    do_import(alice_client, url, valid_only="on")

    assert ImportFile.objects.get().state == ImportState.DONE
    assert list(stored.results.values_list(*verdicts)) == rehearsed
    assert [r[1] for r in rehearsed] == [
        "create",
        "update",
        "update",
        "update",
        "update",
        "",
        "update",
        "create",
    ]
    assert Account.objects.count() == 3
    renamed = Account.objects.get(external_id="X1")
    assert (renamed.name, renamed.domain, renamed.employees) == (
        "Someone Else",
        "tricky.example",
        20,
    )
    assert list(renamed.contacts.values_list("name", "email")) == [("Pat", "pat@tricky.example")]
    existing.refresh_from_db()
    assert (existing.domain, existing.employees) == ("existing.example", 5)


# --- The import in the worker ----------------------------------------------------------------


def press_import(client, url, **extra):
    stored = ImportFile.objects.get()
    data = {f"col_{i}": t for i, t in enumerate(importing.auto_mapping(stored.header))}
    return client.post(url, {"action": "import", **data, **extra})


def test_import_hands_the_file_to_the_worker_and_the_page_shows_its_progress(alice_client):
    url = preview_url(alice_client, many_rows(5))

    response = press_import(alice_client, url)

    assert response.status_code == 302
    assert not Account.objects.exists()  # the request only queued it
    stored = ImportFile.objects.get()
    assert (stored.state, stored.rows_done) == (ImportState.QUEUED, 0)
    html = alice_client.get(url).content.decode()
    assert "0 of 5 rows imported (waiting for the worker)" in html
    assert f'<a href="{url}" hx-get="{url}" hx-trigger="every 2s"' in html  # and without JS
    assert "the other rows are still imported" in html


def test_the_worker_imports_in_batches_and_records_each_one(alice_client, settings, monkeypatch):
    settings.CSV_IMPORT_BATCH_ROWS = 2
    url = preview_url(alice_client, many_rows(5))
    press_import(alice_client, url)
    stored = ImportFile.objects.get()
    seen = []
    original = importing.import_batch

    def watch(stored, rows, *, first_number):
        original(stored, rows, first_number=first_number)
        seen.append((first_number, Account.objects.count(), stored.rows_done))

    monkeypatch.setattr(importing, "import_batch", watch)  # it still imports: it only watches

    assert tasks.import_upload.run(stored.pk) is True

    assert seen == [(2, 2, 2), (4, 4, 4), (6, 5, 5)]
    stored.refresh_from_db()
    assert (stored.state, stored.rows_done, stored.created_count) == (ImportState.DONE, 5, 5)
    html = alice_client.get(url).content.decode()
    assert "Imported" in html
    assert "<strong>5</strong> accounts created" in html


def test_running_the_import_task_twice_imports_once(alice_client):
    url = preview_url(alice_client, many_rows(3))
    press_import(alice_client, url)
    pk = ImportFile.objects.get().pk

    assert tasks.import_upload.run(pk) is True
    assert tasks.import_upload.run(pk) is False

    assert Account.objects.count() == 3


def test_pressing_import_again_while_it_runs_queues_nothing_more(alice_client):
    url = preview_url(alice_client, many_rows(3))
    press_import(alice_client, url)

    response = alice_client.post(url, {"action": "import"}, follow=True)

    assert "is already being imported" in response.content.decode()
    assert ImportFile.objects.get().state == ImportState.QUEUED


def test_a_row_that_fails_at_import_time_is_reported_and_the_others_are_imported(
    alice_client, charlie
):
    url = preview_url(alice_client, many_rows(3))
    press_import(alice_client, url)
    # After the preview, someone else's account takes the domain of the second row.
    Account.objects.create(
        name="Taken", website="https://bulk-1.example", domain="bulk-1.example", owner=charlie
    )

    run_worker()

    stored = ImportFile.objects.get()
    assert (stored.state, stored.created_count, stored.failed_count) == (ImportState.DONE, 2, 1)
    failed = stored.results.get(number=3)
    assert failed.errors == [
        "This row matches an account you cannot change (domain bulk-1.example)."
    ]
    assert Account.objects.count() == 3
    html = alice_client.get(url).content.decode()
    assert "row not imported (listed below)" in html


def test_a_stopped_import_goes_on_from_the_last_batch_saved(alice_client):
    url = preview_url(alice_client, many_rows(4))
    stored = ImportFile.objects.get()
    ImportFile.objects.filter(pk=stored.pk).update(
        state=ImportState.FAILED, rows_done=2, error="The import stopped after 2 rows."
    )
    assert "The import stopped after 2 rows." in alice_client.get(url).content.decode()

    alice_client.post(url, {"action": "import"})
    run_worker()

    assert sorted(Account.objects.values_list("name", flat=True)) == [
        "Bulk Fictional 2",
        "Bulk Fictional 3",
    ]
    assert ImportFile.objects.get().state == ImportState.DONE


def test_the_progress_polls_as_a_region_and_reloads_the_page_when_done(alice_client):
    url = preview_url(alice_client, many_rows(3))
    press_import(alice_client, url)

    polling = alice_client.get(url, headers={"HX-Request": "true"})
    run_worker()
    finished = alice_client.get(url, headers={"HX-Request": "true"})
    plain = alice_client.get(url)

    assert polling.content.decode().lstrip().startswith('<section id="import-progress"')
    assert "HX-Refresh" not in polling
    assert finished["HX-Refresh"] == "true"
    assert "<h1>" in plain.content.decode()
    assert 'data-import-state="done"' in plain.content.decode()


def stall(stored, *, rows_done: int, minutes: int):
    ImportFile.objects.filter(pk=stored.pk).update(
        state=ImportState.RUNNING,
        rows_done=rows_done,
        progress_at=timezone.now() - dt.timedelta(minutes=minutes),
    )


def test_a_redelivered_task_takes_up_an_import_whose_worker_died(alice_client):
    url = preview_url(alice_client, many_rows(4))
    stored = ImportFile.objects.get()
    stall(stored, rows_done=2, minutes=3)  # its worker was killed after the first batch

    assert tasks.import_upload.run(stored.pk) is True

    assert Account.objects.count() == 2  # rows 3 and 4: the first two were saved before
    assert ImportFile.objects.get().state == ImportState.DONE
    assert "Imported" in alice_client.get(url).content.decode()


def test_a_task_delivered_twice_leaves_a_running_import_to_its_worker(alice_client):
    preview_url(alice_client, many_rows(4))
    stored = ImportFile.objects.get()
    stall(stored, rows_done=2, minutes=0)  # it saved a batch a moment ago

    assert tasks.import_upload.run(stored.pk) is False

    assert not Account.objects.exists()


def test_the_page_offers_to_go_on_with_a_stalled_import(alice_client):
    url = preview_url(alice_client, many_rows(4))
    stored = ImportFile.objects.get()
    stall(stored, rows_done=2, minutes=3)

    assert "The import seems to have stopped" in alice_client.get(url).content.decode()
    alice_client.post(url, {"action": "import"})
    run_worker()

    assert Account.objects.count() == 2
    assert ImportFile.objects.get().state == ImportState.DONE


def test_the_dry_run_is_stored_a_few_thousand_verdicts_per_transaction(
    alice_client, settings, monkeypatch
):
    monkeypatch.setattr(importing, "RESULTS_PER_TRANSACTION", 2)
    committed = []
    original = ImportRowResult.objects.bulk_create

    def watch(rows, *args, **kwargs):
        rows = list(rows)
        committed.append(len(rows))
        return original(rows, *args, **kwargs)

    monkeypatch.setattr(ImportRowResult.objects, "bulk_create", watch)

    url = preview_url(alice_client, many_rows(5))

    assert committed == [2, 2, 1]
    stored = ImportFile.objects.get()
    assert stored.previewed_at is not None and stored.dry_run_started_at is None
    assert "<strong>5</strong> new accounts" in alice_client.get(url).content.decode()


def test_a_preview_being_stored_is_not_stored_twice_nor_dropped(alice_client):
    url = preview_url(alice_client, many_rows(3))
    stored = ImportFile.objects.get()
    ImportFile.objects.filter(pk=stored.pk).update(
        dry_run_started_at=timezone.now(), previewed_at=None
    )  # another request is storing a new dry run

    page = alice_client.get(url)
    changed = alice_client.post(url, {"action": "preview", "col_0": "name"})

    assert page.status_code == 200 and "Preparing the preview" in page.content.decode()
    assert changed.status_code == 200 and "Preparing the preview" in changed.content.decode()
    assert ImportFile.objects.filter(pk=stored.pk).exists()  # not dropped as a bad file
    assert stored.results.count() == 3


def test_a_dry_run_whose_request_died_is_run_again(alice_client):
    url = preview_url(alice_client, many_rows(3))
    stored = ImportFile.objects.get()
    long_ago = timezone.now() - importing.DRY_RUN_STALLED_AFTER - dt.timedelta(seconds=1)
    ImportFile.objects.filter(pk=stored.pk).update(dry_run_started_at=long_ago, previewed_at=None)

    html = alice_client.get(url).content.decode()

    assert "<strong>3</strong> new accounts" in html
    stored.refresh_from_db()
    assert stored.previewed_at is not None and stored.dry_run_started_at is None

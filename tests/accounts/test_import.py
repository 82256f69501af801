import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import importing
from accounts.models import Account, Contact, ImportFile

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
    return client.post(url, data)


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
    assert not ImportFile.objects.exists()


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

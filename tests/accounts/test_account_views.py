import pytest
from django.urls import reverse

from accounts.models import Account, BuyingProcess, Contact
from tests.accounts.conftest import htmx

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything an access failure must leave untouched."""
    return (
        list(Account.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        list(BuyingProcess.objects.order_by("pk").values()),
    )


VALID_ACCOUNT = {"name": "Changed Name", "website": "https://changed.example"}
VALID_CONTACT = {
    "name": "New Person",
    "buying_role": "champion",
    "influence": "high",
    "stance": "supporter",
}

# (url name, method, url args from (acme, dana), POST data, is a write)
VIEWS = [
    ("accounts:detail", "get", lambda a, c: [a.pk], None, False),
    ("accounts:edit", "get", lambda a, c: [a.pk], None, True),
    ("accounts:edit", "post", lambda a, c: [a.pk], VALID_ACCOUNT, True),
    ("accounts:buying_process", "get", lambda a, c: [a.pk], None, True),
    ("accounts:buying_process", "post", lambda a, c: [a.pk], {"budget_cycle": "Q4"}, True),
    ("accounts:contact_create", "get", lambda a, c: [a.pk], None, True),
    ("accounts:contact_create", "post", lambda a, c: [a.pk], VALID_CONTACT, True),
    ("accounts:contact_edit", "get", lambda a, c: [c.pk], None, True),
    ("accounts:contact_edit", "post", lambda a, c: [c.pk], VALID_CONTACT, True),
    ("accounts:contact_delete", "post", lambda a, c: [c.pk], {}, True),
]
IDS = [f"{name}-{method}" for name, method, *_ in VIEWS]


@pytest.mark.parametrize(("name", "method", "args", "data", "write"), VIEWS, ids=IDS)
def test_anonymous_visitors_are_sent_to_sign_in(
    client, acme, dana, name, method, args, data, write
):
    url = reverse(name, args=args(acme, dana))
    before = snapshot()

    response = getattr(client, method)(url, data or {})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert snapshot() == before


@pytest.mark.parametrize("outsider", ["charlie", "walter", "victor", "nobody"])
@pytest.mark.parametrize(("name", "method", "args", "data", "write"), VIEWS, ids=IDS)
def test_outsiders_get_404_and_nothing_changes(
    client, request, acme, dana, outsider, name, method, args, data, write
):
    client.force_login(request.getfixturevalue(outsider))
    before = snapshot()

    response = getattr(client, method)(reverse(name, args=args(acme, dana)), data or {})

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("reader", ["bob", "mallory"])
@pytest.mark.parametrize(("name", "method", "args", "data", "write"), VIEWS, ids=IDS)
def test_read_only_users_get_403_on_writes_and_read_the_rest(
    client, request, acme, dana, reader, name, method, args, data, write
):
    client.force_login(request.getfixturevalue(reader))
    before = snapshot()

    response = getattr(client, method)(reverse(name, args=args(acme, dana)), data or {})

    assert response.status_code == (403 if write else 200)
    assert snapshot() == before


def test_an_executive_joining_a_call_reads_the_account_but_cannot_edit_it(
    client, acme, victor, make_call
):
    make_call(acme, executive=victor)
    client.force_login(victor)

    assert client.get(reverse("accounts:detail", args=[acme.pk])).status_code == 200
    assert client.post(reverse("accounts:edit", args=[acme.pk]), VALID_ACCOUNT).status_code == 403


@pytest.mark.parametrize("who", ["alice", "ada"])
def test_the_owner_and_admins_can_edit(client, request, acme, who):
    client.force_login(request.getfixturevalue(who))
    data = {**VALID_ACCOUNT, "team": acme.team_id, "owner": acme.owner_id}

    response = client.post(reverse("accounts:edit", args=[acme.pk]), data)

    assert response.status_code == 302, response.context["form"].errors
    acme.refresh_from_db()
    assert acme.name == "Changed Name"
    assert acme.domain == "changed.example"


# --- Create --------------------------------------------------------------------------------


def test_a_rep_creates_an_account_they_own_in_their_team(alice_client, alice, east):
    response = alice_client.post(
        reverse("accounts:create"),
        {
            "name": "Initech Fictional",
            "website": "initech.example",
            "team": east.pk,
            "naics_code": "5132",
            "country": "GB",
        },
    )

    account = Account.objects.get(name="Initech Fictional")
    assert response.status_code == 302
    assert response.url == account.get_absolute_url()
    assert account.owner == alice
    assert account.team == east
    assert account.domain == "initech.example"


def test_a_rep_cannot_make_someone_else_the_owner(alice_client, alice, bob, east):
    alice_client.post(
        reverse("accounts:create"), {"name": "Sneaky", "team": east.pk, "owner": bob.pk}
    )

    assert Account.objects.get(name="Sneaky").owner == alice


def test_create_form_errors_are_shown_next_to_the_fields(alice_client, east, acme):
    response = alice_client.post(
        reverse("accounts:create"),
        {"name": "Dup", "website": "https://acme.example", "team": east.pk, "naics_code": "1"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Another account already has the domain acme.example." in html
    assert "is not a NAICS 2022 code" in html
    assert 'class="field field-invalid"' in html
    assert not Account.objects.filter(name="Dup").exists()


@pytest.mark.parametrize("who", ["mallory", "victor", "nobody"])
def test_only_reps_and_admins_create_accounts(client, request, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("accounts:create")).status_code == 403
    assert client.post(reverse("accounts:create"), {"name": "X"}).status_code == 403
    assert not Account.objects.exists()


def test_create_requires_sign_in(client, db):
    response = client.get(reverse("accounts:create"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- Detail --------------------------------------------------------------------------------


def test_the_detail_page_groups_stakeholders_by_buying_role(alice_client, acme, dana):
    Contact.objects.create(
        account=acme, name="Chris Champion", buying_role="champion", reports_to=dana
    )
    BuyingProcess.objects.create(account=acme, signatories="The CFO signs above $100k")

    html = alice_client.get(reverse("accounts:detail", args=[acme.pk])).content.decode()

    assert html.index("Economic buyer") < html.index("Champion")
    assert "Reports to Dana Buyer" in html
    assert "The CFO signs above $100k" in html
    assert "Custom Computer Programming Services" in html


def test_readers_see_no_edit_links(client, bob, acme, dana):
    client.force_login(bob)

    html = client.get(reverse("accounts:detail", args=[acme.pk])).content.decode()

    assert reverse("accounts:edit", args=[acme.pk]) not in html
    assert reverse("accounts:contact_edit", args=[dana.pk]) not in html


def test_detail_with_htmx_returns_only_the_stakeholder_region(alice_client, acme, dana):
    url = reverse("accounts:detail", args=[acme.pk])

    full = alice_client.get(url).content.decode()
    partial = alice_client.get(url, **htmx()).content.decode()

    assert "<html" in full
    assert "<html" not in partial
    assert partial.strip().startswith('<section class="card" id="stakeholders"')
    assert "Dana Buyer" in partial


def test_an_htmx_history_restore_gets_the_whole_page(alice_client, acme):
    url = reverse("accounts:detail", args=[acme.pk])

    response = alice_client.get(url, **htmx(HTTP_HX_HISTORY_RESTORE_REQUEST="true"))

    assert "<html" in response.content.decode()


# --- Buying process ------------------------------------------------------------------------


def test_the_owner_describes_the_buying_process(alice_client, alice, acme):
    response = alice_client.post(
        reverse("accounts:buying_process", args=[acme.pk]),
        {"procurement_steps": "RFP, then vendor risk", "typical_timeline": "4 months"},
    )

    assert response.status_code == 302
    process = BuyingProcess.objects.get(account=acme)
    assert process.procurement_steps == "RFP, then vendor risk"
    assert process.updated_by == alice


# --- Stakeholders inline -------------------------------------------------------------------


def test_adding_a_stakeholder_without_javascript_redirects_to_the_account(alice_client, acme):
    url = reverse("accounts:contact_create", args=[acme.pk])

    page = alice_client.get(url)
    response = alice_client.post(url, VALID_CONTACT)

    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert f'action="{url}"' in page.content.decode()
    # The page has no stakeholder map for htmx to swap: its form is a plain one.
    assert "hx-post" not in page.content.decode()
    assert "hx-target" not in page.content.decode()
    assert response.status_code == 302
    assert response.url == acme.get_absolute_url() + "#stakeholders"
    assert acme.contacts.get().name == "New Person"


def test_adding_a_stakeholder_with_htmx_returns_the_refreshed_map(alice_client, acme):
    url = reverse("accounts:contact_create", args=[acme.pk])

    form = alice_client.get(url, **htmx()).content.decode()
    response = alice_client.post(url, VALID_CONTACT, **htmx())

    assert "<html" not in form
    assert 'id="contact-form-new"' in form
    assert f'hx-post="{url}"' in form and f'action="{url}"' in form
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="stakeholders"' in html
    assert "New Person" in html
    assert "New Person added." in html


def test_an_invalid_htmx_stakeholder_form_is_retargeted_at_itself(alice_client, acme):
    url = reverse("accounts:contact_create", args=[acme.pk])

    response = alice_client.post(url, {**VALID_CONTACT, "email": "nope"}, **htmx())

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#contact-form-new"
    assert response["HX-Reswap"] == "outerHTML"
    assert "valid email" in response.content.decode()
    assert not acme.contacts.exists()


def test_an_invalid_stakeholder_form_without_htmx_shows_the_page_again(alice_client, acme):
    response = alice_client.post(
        reverse("accounts:contact_create", args=[acme.pk]), {**VALID_CONTACT, "name": ""}
    )

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert "This field is required." in response.content.decode()


def test_editing_a_stakeholder_inline(alice_client, dana):
    url = reverse("accounts:contact_edit", args=[dana.pk])

    form = alice_client.get(url, **htmx()).content.decode()
    response = alice_client.post(
        url, {**VALID_CONTACT, "name": "Dana B. Buyer", "stance": "skeptic"}, **htmx()
    )

    assert f'id="contact-form-{dana.pk}"' in form
    assert "Dana B. Buyer updated." in response.content.decode()
    dana.refresh_from_db()
    assert dana.stance == "skeptic"


def test_editing_a_stakeholder_without_htmx(alice_client, dana):
    url = reverse("accounts:contact_edit", args=[dana.pk])

    page = alice_client.get(url).content.decode()
    response = alice_client.post(url, {**VALID_CONTACT, "title": "Chief Financial Officer"})

    assert "<html" in page and "Remove Dana Buyer" in page
    assert response.status_code == 302
    dana.refresh_from_db()
    assert dana.title == "Chief Financial Officer"


def test_a_stakeholder_cannot_report_to_someone_at_another_customer(alice_client, dana, westwind):
    otto = Contact.objects.create(account=westwind, name="Otto")

    response = alice_client.post(
        reverse("accounts:contact_edit", args=[dana.pk]), {**VALID_CONTACT, "reports_to": otto.pk}
    )

    assert response.status_code == 200
    dana.refresh_from_db()
    assert dana.reports_to is None


def test_removing_a_stakeholder_with_and_without_htmx(alice_client, acme, dana):
    other = Contact.objects.create(account=acme, name="Other")

    with_htmx = alice_client.post(reverse("accounts:contact_delete", args=[dana.pk]), **htmx())
    without = alice_client.post(reverse("accounts:contact_delete", args=[other.pk]))

    assert "Dana Buyer removed." in with_htmx.content.decode()
    assert without.status_code == 302
    assert not acme.contacts.exists()


def test_removing_by_get_is_refused(alice_client, dana):
    assert alice_client.get(reverse("accounts:contact_delete", args=[dana.pk])).status_code == 405


def test_a_rep_with_one_team_finds_it_chosen_on_the_new_account_form(alice_client, east):
    form = alice_client.get(reverse("accounts:create")).context["form"]

    assert form["team"].value() == east.pk

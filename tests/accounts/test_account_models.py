import pytest
from django.core.exceptions import ValidationError

from accounts.forms import AccountForm, ContactForm
from accounts.models import Account, Contact, domain_from_url


def account_form(user, instance=None, **data):
    fields = {"name": "Globex Fictional", "team": "", **data}
    if fields["team"] == "":
        fields.pop("team")
    return AccountForm(fields, instance=instance or Account(owner=user), user=user)


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.Example.com/about", "example.com"),
        ("http://shop.example.co.uk:8080", "shop.example.co.uk"),
        ("WWW.EXAMPLE.ORG", "example.org"),
        ("", ""),
    ],
)
def test_the_domain_comes_from_the_website(url, domain):
    assert domain_from_url(url) == domain


def test_a_valid_account_saves_with_its_domain_naics_title_and_country(alice, east):
    form = account_form(
        alice,
        website="https://www.Globex.example/",
        naics_code="541511",
        country="FR",
        team=east.pk,
        ticker="gbx",
        cik="0000320193",
        sic_code="7372",
        employees="1200",
        fiscal_year_end="6",
    )

    assert form.is_valid(), form.errors
    account = form.save()
    assert account.domain == "globex.example"
    assert account.naics_title == "Custom Computer Programming Services"
    assert account.country_name == "France"
    assert account.ticker == "GBX"
    assert account.owner == alice


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("naics_code", "999999", "not a NAICS 2022 code"),
        ("naics_code", "abc", "not a NAICS 2022 code"),
        ("country", "XX", "Select a valid choice"),
        ("website", "not a url at all", "Enter a valid URL"),
        ("ticker", "lower case!", "ticker symbol"),
        ("cik", "12ab", "up to ten digits"),
        ("sic_code", "73", "three or four digits"),
        ("employees", "-5", "greater than or equal to 0"),
        ("employees", "20000000", "less than or equal to 10000000"),
        ("fiscal_year_end", "13", "Select a valid choice"),
    ],
)
def test_each_field_rejects_bad_values_with_a_field_error(alice, east, field, value, message):
    form = account_form(alice, team=east.pk, **{field: value})

    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_a_duplicate_domain_is_a_website_field_error(alice, east, acme):
    form = account_form(alice, team=east.pk, website="http://acme.example/contact")

    assert not form.is_valid()
    assert form.errors["website"] == ["Another account already has the domain acme.example."]


def test_editing_an_account_keeps_its_own_domain(alice, acme):
    form = account_form(
        alice, instance=acme, name="Acme renamed", website=acme.website, team=acme.team_id
    )

    assert form.is_valid(), form.errors


def test_the_domain_is_unique_in_the_database_too(alice, acme):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(name="Copy", domain="acme.example", owner=alice)


def test_accounts_without_a_website_may_share_the_empty_domain(alice):
    Account.objects.create(name="One", owner=alice)
    Account.objects.create(name="Two", owner=alice)

    assert Account.objects.filter(domain="").count() == 2


def test_a_rep_must_choose_one_of_their_own_teams(alice, charlie):
    from accounts.models import Team

    west = Team.objects.get(name="West")
    form = account_form(alice, team=west.pk)

    assert not form.is_valid()
    assert "team" in form.errors


def test_an_admin_chooses_an_owner_who_is_in_the_team(ada, alice, charlie):
    from accounts.models import Team

    form = AccountForm(
        {"name": "Initech", "owner": alice.pk, "team": Team.objects.get(name="West").pk},
        instance=Account(owner=ada),
        user=ada,
    )

    assert not form.is_valid()
    assert "alice" in form.errors["team"][0].lower()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("email", "not-an-email", "valid email"),
        ("phone", "call me maybe", "phone number"),
        ("buying_role", "kingmaker", "Select a valid choice"),
        ("influence", "huge", "Select a valid choice"),
        ("stance", "angry", "Select a valid choice"),
        ("last_contacted_on", "31/31/2020", "valid date"),
    ],
)
def test_each_stakeholder_field_rejects_bad_values(acme, field, value, message):
    data = {"name": "Pat", "buying_role": "champion", "influence": "high", "stance": "neutral"}
    form = ContactForm({**data, field: value}, account=acme)

    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_a_stakeholder_reports_to_someone_at_the_same_customer_only(acme, westwind, dana):
    outsider = Contact.objects.create(account=westwind, name="Otto")
    contact = Contact(account=acme, name="Pat", reports_to=outsider)

    with pytest.raises(ValidationError) as error:
        contact.full_clean()
    assert "reports_to" in error.value.message_dict


def test_reporting_lines_cannot_loop(acme, dana):
    pat = Contact.objects.create(account=acme, name="Pat", reports_to=dana)
    dana.reports_to = pat

    with pytest.raises(ValidationError) as error:
        dana.full_clean()
    assert "loop" in error.value.message_dict["reports_to"][0]


def test_two_stakeholders_of_one_account_cannot_share_an_email(acme, dana):
    form = ContactForm(
        {
            "name": "Dana Again",
            "email": "DANA@acme.example",
            "buying_role": "user",
            "influence": "low",
            "stance": "unknown",
        },
        account=acme,
    )

    assert not form.is_valid()
    assert "already has a stakeholder with that e-mail" in str(form.errors)


def test_the_org_chart_is_a_depth_first_tree(acme, dana):
    pat = Contact.objects.create(account=acme, name="Pat", reports_to=dana)
    Contact.objects.create(account=acme, name="Quinn", reports_to=pat)
    Contact.objects.create(account=acme, name="Alex")

    chart = [(c.name, depth) for c, depth in acme.org_chart()]

    assert chart == [("Alex", 0), ("Dana Buyer", 0), ("Pat", 1), ("Quinn", 2)]

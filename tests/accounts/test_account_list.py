import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, Contact, Team
from tests.accounts.conftest import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(alice, bob, east):
    """60 East accounts: 40 alice's, 20 bob's; every fifth German, every third in software."""
    accounts = []
    for i in range(60):
        accounts.append(
            Account(
                name=f"Company {i:02d}",
                domain=f"company{i}.example",
                website=f"https://company{i}.example",
                owner=alice if i < 40 else bob,
                team=east,
                country="DE" if i % 5 == 0 else "US",
                naics_code="541511" if i % 3 == 0 else "311",
            )
        )
    created = Account.objects.bulk_create(accounts)
    Contact.objects.bulk_create(
        [Contact(account=a, name=f"Person {n}") for a in created[:10] for n in range(3)]
    )
    return created


def names(response) -> list[str]:
    return [a.name for a in response.context["page"].object_list]


def test_the_list_shows_the_visible_accounts_a_page_at_a_time(alice_client, many, westwind):
    response = alice_client.get(reverse("accounts:list"), {"per_page": 25})

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 60
    assert names(response)[:2] == ["Company 00", "Company 01"]
    assert "Westwind" not in response.content.decode()


def test_the_search_matches_name_domain_and_city(alice_client, many):
    response = alice_client.get(reverse("accounts:list"), {"q": "company1"})

    assert set(names(response)) == {f"Company {i}" for i in range(10, 20)} | {"Company 01"}


def test_filters_combine(alice_client, many, bob):
    response = alice_client.get(
        reverse("accounts:list"),
        {"owner": bob.pk, "country": "DE", "industry": "54", "per_page": 50},
    )

    # bob owns 40..59; German are multiples of 5; software multiples of 3: 45 only.
    assert names(response) == ["Company 45"]


def test_the_manufacturing_filter_spans_naics_31_to_33(alice_client, many):
    response = alice_client.get(reverse("accounts:list"), {"industry": "31-33", "per_page": 50})

    assert response.context["page"].paginator.count == 40


def test_sorting_by_name_descending(alice_client, many):
    response = alice_client.get(reverse("accounts:list"), {"sort": "-name", "per_page": 5})

    assert names(response) == ["Company 59", "Company 58", "Company 57", "Company 56", "Company 55"]


def test_the_second_page(alice_client, many):
    response = alice_client.get(reverse("accounts:list"), {"page": 2, "per_page": 50})

    assert len(names(response)) == 10
    assert names(response)[0] == "Company 50"


def test_bad_parameters_fall_back_to_the_defaults(alice_client, many):
    response = alice_client.get(
        reverse("accounts:list"), {"sort": "password", "per_page": 10_000, "page": "x"}
    )

    assert response.status_code == 200
    assert len(names(response)) == 25


def test_the_list_shows_stakeholder_counts(alice_client, many):
    response = alice_client.get(reverse("accounts:list"), {"per_page": 5})

    assert [a.contact_count for a in response.context["page"].object_list] == [3, 3, 3, 3, 3]


def test_without_htmx_the_whole_page_is_rendered(alice_client, many):
    response = alice_client.get(reverse("accounts:list"), {"q": "Company 0"})

    html = response.content.decode()
    assert "<html" in html
    assert 'role="search"' in html
    assert response["Vary"].lower().count("hx-request") == 1


def test_with_htmx_only_the_results_are_rendered(alice_client, many):
    response = alice_client.get(reverse("accounts:list"), {"q": "Company 0"}, **htmx())

    html = response.content.decode()
    assert "<html" not in html
    assert 'role="search"' not in html
    assert html.strip().startswith('<section id="account-results"')
    assert "Company 05" in html


def test_the_search_form_works_without_javascript(alice_client, many):
    html = alice_client.get(reverse("accounts:list")).content.decode()

    assert f'action="{reverse("accounts:list")}"' in html
    assert 'hx-push-url="true"' in html
    assert "delay:300ms" in html
    # Every htmx link keeps a plain href.
    assert 'href="?page=2"' in html and 'hx-get="?page=2"' in html


def count_queries(client, per_page: int, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("accounts:list"), {"per_page": per_page, **params})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == per_page
    assert len(queries) >= 5  # session, user, roles, count, page (and the filter options)
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"q": "company"}, {"sort": "updated", "country": "US"}])
def test_the_list_runs_the_same_number_of_queries_for_5_or_50_rows(alice_client, many, params):
    if params.get("country"):
        Account.objects.update(country="US")
    count_queries(alice_client, 5, **params)  # fills the filter-choices cache
    assert count_queries(alice_client, 5, **params) == count_queries(alice_client, 50, **params)


def test_the_filter_choices_are_cached_until_an_account_changes(alice_client, many, alice, east):
    first = count_queries(alice_client, 5)
    cached = count_queries(alice_client, 5)
    Account.objects.create(name="Zed Fictional", country="JP", owner=alice, team=east)

    response = alice_client.get(reverse("accounts:list"))

    assert cached == first - 3  # the scan of the accounts and the owner and team look-ups
    assert "Japan" in response.content.decode()


def test_the_htmx_list_runs_the_same_number_of_queries_for_5_or_50_rows(alice_client, many):
    with CaptureQueriesContext(connection) as small:
        alice_client.get(reverse("accounts:list"), {"per_page": 5}, **htmx())
    with CaptureQueriesContext(connection) as large:
        alice_client.get(reverse("accounts:list"), {"per_page": 50}, **htmx())

    assert len(small) == len(large)


def test_managers_see_their_teams_and_can_filter_by_team(client, mallory, many, westwind):
    client.force_login(mallory)

    response = client.get(reverse("accounts:list"), {"team": Team.objects.get(name="East").pk})

    assert response.context["page"].paginator.count == 60
    assert "New account" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("accounts:list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_user_without_a_role_sees_an_empty_list(client, nobody, many):
    client.force_login(nobody)

    assert client.get(reverse("accounts:list")).context["page"].paginator.count == 0

"""Search across accounts, stakeholders, calls and briefs (callprep/search.py, /search/).

alice (rep, East) owns Acme, its stakeholder Dana and a call with Acme that victor (executive)
joins, with a brief; charlie (rep, West) owns Westwind with the same kinds of things. Each kind
is searched with words both worlds share: only what the searcher may see comes back.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, Contact
from callprep import search
from callprep.briefs import services
from tests.review.conftest import write

URL = reverse("search")


def found(user, q: str, kind: str, **kwargs) -> list:
    groups = {g.key: g for g in search.search(user, q, **kwargs).groups}
    return groups[kind].items if kind in groups else []


def page(client, user, q: str):
    client.force_login(user)
    return client.get(URL, {"q": q})


@pytest.fixture
def call(acme, make_call, victor):
    return make_call(acme, executive=victor, title="Executive visit at Acme")


@pytest.fixture
def brief(call, alice):
    return services.start_brief(call, by=alice)


@pytest.fixture
def west_contact(westwind):
    return Contact.objects.create(account=westwind, name="Dana Outsider", title="CFO")


@pytest.fixture
def west_call(westwind, make_call):
    return make_call(westwind, title="Executive visit at Westwind", time_zone="Europe/Berlin")


@pytest.fixture
def west_brief(west_call, charlie):
    made = services.start_brief(west_call, by=charlie)
    write(made, "business_challenges", "Their ledger reconciliation is slow.", by=charlie)
    return made


@pytest.mark.django_db
def test_it_never_returns_an_account_the_user_may_not_see(acme, westwind, alice, charlie, ada):
    assert found(alice, "Fictional", "accounts") == [acme]
    assert found(charlie, "Fictional", "accounts") == [westwind]
    assert set(found(ada, "Fictional", "accounts")) == {acme, westwind}


@pytest.mark.django_db
def test_it_never_returns_a_stakeholder_the_user_may_not_see(
    client, dana, west_contact, alice, charlie, walter
):
    assert found(alice, "Dana", "stakeholders") == [dana]
    assert found(walter, "Dana", "stakeholders") == [west_contact]
    html = page(client, alice, "Dana").content.decode()
    assert "Dana Buyer" in html and "Dana Outsider" not in html
    assert f"{dana.account.get_absolute_url()}#contact-{dana.pk}" in html


@pytest.mark.django_db
def test_it_never_returns_a_call_the_user_may_not_see(
    client,
    call,
    west_call,
    acme,
    make_call,
    alice,
    bob,
    charlie,
    victor,
):
    other_acme_call = make_call(acme, title="Executive visit for the renewal")
    assert set(found(bob, "Executive visit", "calls")) == {call, other_acme_call}
    assert found(charlie, "Executive visit", "calls") == [west_call]
    # The executive reaches Acme through the call he joins, and that call only.
    assert found(victor, "Executive visit", "calls") == [call]
    html = page(client, charlie, "Executive visit").content.decode()
    assert "Westwind" in html and "Executive visit at Acme" not in html
    assert west_call.get_absolute_url() in html
    assert "Europe/Berlin" in html  # the call's time in its own zone, named


@pytest.mark.django_db
def test_it_never_returns_a_brief_the_user_may_not_see(
    client,
    brief,
    west_brief,
    alice,
    charlie,
    mallory,
    victor,
):
    write(brief, "business_challenges", "Acme closes its ledger in 12 days.", by=alice)
    for user in (alice, mallory, victor):
        assert found(user, "ledger", "briefs") == [brief]
    assert found(charlie, "ledger", "briefs") == [west_brief]
    html = page(client, mallory, "ledger").content.decode()
    assert brief.get_absolute_url() in html and west_brief.get_absolute_url() not in html
    assert "Draft" in html and "found in Business challenges and priorities" in html


@pytest.mark.django_db
def test_it_finds_by_part_of_a_word(acme, dana, call, alice):
    assert found(alice, "acm", "accounts") == [acme]
    assert found(alice, "fictio", "accounts") == [acme]
    assert found(alice, "dan", "stakeholders") == [dana]
    assert found(alice, "execut", "calls") == [call]


@pytest.mark.django_db
def test_an_unrelated_word_finds_nothing(acme, dana, call, alice):
    assert search.search(alice, "zebra").groups == []


@pytest.mark.django_db
def test_an_over_long_query_is_refused_with_a_message(client, acme, alice):
    results = search.search(alice, "a" * 101)
    assert results.groups == [] and "at most 100 characters" in results.problem
    response = page(client, alice, "Acme " * 30)
    assert response.status_code == 200
    html = response.content.decode()
    assert "at most 100 characters" in html and acme.get_absolute_url() not in html
    # Spaces around a query do not count.
    assert found(alice, " " * 50 + "Acme" + " " * 50, "accounts") == [acme]


@pytest.mark.django_db
def test_control_characters_are_searched_as_spaces(client, acme, alice):
    assert found(alice, "Acme\x00", "accounts") == [acme]
    assert page(client, alice, "\x00\x07").status_code == 200
    assert "Type a name" in search.search(alice, "\x00").problem


@pytest.mark.django_db
def test_an_empty_query_shows_a_hint(client, acme, alice):
    for q in ("", "   "):
        results = search.search(alice, q)
        assert results.groups == [] and "Type a name" in results.problem
    html = page(client, alice, "").content.decode()
    assert "Type a name" in html and acme.get_absolute_url() not in html


@pytest.mark.django_db
def test_each_kind_shows_at_most_its_limit(alice, east):
    for n in range(12):
        Account.objects.create(name=f"Limit Fictional {n:02d}", owner=alice, team=east)
    groups = {g.key: g for g in search.search(alice, "Limit", limit_per_kind=10).groups}
    assert len(groups["accounts"].items) == 10 and groups["accounts"].more
    groups = {g.key: g for g in search.search(alice, "Limit", limit_per_kind=20).groups}
    assert len(groups["accounts"].items) == 12 and not groups["accounts"].more


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_for_many_results_as_for_few(
    client,
    brief,
    acme,
    dana,
    east,
    alice,
    make_call,
):
    client.force_login(alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, {"q": "Acme"})
        assert response.status_code == 200
        return len(captured)

    queries()  # the first search on a connection asks once whether pg_trgm is there
    few = queries()
    for n in range(8):
        account = Account.objects.create(name=f"Acme Fictional {n}", owner=alice, team=east)
        Contact.objects.create(account=account, name=f"Acme contact {n}")
        services.start_brief(make_call(account, title=f"Acme call {n}"), by=alice)
    many = queries()
    html = client.get(URL, {"q": "Acme"}).content.decode()
    assert html.count('data-testid="search-result"') == 4 * 9  # every kind, 9 of each
    assert many == few <= 12


@pytest.mark.django_db
def test_user_text_is_escaped(client, alice, east):
    Account.objects.create(name="<b>Bold</b> Fictional", owner=alice, team=east)
    html = page(client, alice, "<b>Bold").content.decode()
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt; Fictional" in html


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login(client):
    response = client.get(URL, {"q": "Acme"})
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")


@pytest.mark.django_db
def test_the_navigation_has_a_plain_search_form_with_the_shortcut(client, alice):
    client.force_login(alice)
    html = client.get(reverse("accounts:list")).content.decode()
    assert '<form class="nav-search" method="get" action="/search/"' in html
    assert 'aria-keyshortcuts="/"' in html and "/static/js/app.js" in html

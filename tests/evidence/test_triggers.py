"""Evidence is collected again when an account changes in a way the evidence depends on."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from accounts.models import Account
from callprep.evidence import collect
from callprep.evidence.models import CollectionRun
from tests.accounts.test_import import do_import, preview_url

pytestmark = pytest.mark.django_db

FORM_FIELDS = [
    "name",
    "website",
    "team",
    "naics_code",
    "sic_code",
    "country",
    "hq_city",
    "employees",
    "fiscal_year_end",
    "ticker",
    "exchange",
    "cik",
    "external_id",
    "description",
]

CSV = (
    "Account Name,Website,Ticker,Billing Country\n"
    "Northwind Freight Inc.,https://www.northwind.example,ZXNW,United States\n"
)


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(collect, "_enqueue", lambda ids: sent.extend(ids))
    return sent


def form_data(account: Account, **changes) -> dict:
    data = model_to_dict(account, fields=FORM_FIELDS)
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def edit(client, account: Account, **changes):
    return client.post(reverse("accounts:edit", args=[account.pk]), form_data(account, **changes))


def test_editing_the_ticker_through_the_view_starts_a_run(
    alice_client, alice, northwind, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = edit(alice_client, northwind, ticker="HALV")

    assert response.status_code == 302
    run = CollectionRun.objects.get(account=northwind)
    assert run.trigger == "account_change"
    assert run.requested_by == alice
    assert enqueued  # the sources that apply were sent to the worker


@pytest.mark.parametrize(
    "change",
    [{"naics_code": "484121"}, {"country": "CA"}, {"website": "https://www.other.example"}],
    ids=["industry", "country", "website"],
)
def test_editing_the_industry_country_or_website_starts_a_run(
    alice_client, northwind, enqueued, django_capture_on_commit_callbacks, change
):
    with django_capture_on_commit_callbacks(execute=True):
        assert edit(alice_client, northwind, **change).status_code == 302

    assert CollectionRun.objects.filter(account=northwind, trigger="account_change").exists()


def test_editing_the_description_does_not_start_a_run(
    alice_client, northwind, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = edit(alice_client, northwind, description="Met them at the trade fair.")

    assert response.status_code == 302
    northwind.refresh_from_db()
    assert northwind.description == "Met them at the trade fair."
    assert not CollectionRun.objects.exists()
    assert enqueued == []


def test_a_form_with_errors_starts_nothing(
    alice_client, northwind, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = edit(alice_client, northwind, ticker="HALV", website="not a url at all")

    assert response.status_code == 200
    assert not CollectionRun.objects.exists()


def test_creating_an_account_starts_a_run(
    alice_client, east, enqueued, django_capture_on_commit_callbacks
):
    data = {"name": "Kestrel Fictional Ltd", "website": "https://kestrel-fict.example"}
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("accounts:create"), {**data, "team": east.pk})

    assert response.status_code == 302
    account = Account.objects.get(name="Kestrel Fictional Ltd")
    assert CollectionRun.objects.get(account=account).trigger == "account_change"


def test_the_csv_import_starts_runs_only_for_new_or_changed_accounts(
    alice_client, east, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        do_import(alice_client, preview_url(alice_client, CSV))
    account = Account.objects.get(name="Northwind Freight Inc.")
    assert CollectionRun.objects.filter(account=account).count() == 1
    CollectionRun.objects.update(finished_at=account.created_at)  # that run is over

    with django_capture_on_commit_callbacks(execute=True):
        do_import(alice_client, preview_url(alice_client, CSV))  # the same file: no change
    assert CollectionRun.objects.filter(account=account).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        do_import(alice_client, preview_url(alice_client, CSV.replace("ZXNW", "ZXHG")))
    assert CollectionRun.objects.filter(account=account).count() == 2
    account.refresh_from_db()
    assert account.ticker == "ZXHG"

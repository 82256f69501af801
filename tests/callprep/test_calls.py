import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contact
from callprep.models import Call, CallStatus

pytestmark = pytest.mark.django_db


def snapshot():
    return list(Call.objects.order_by("pk").values()), list(
        Call.contacts.through.objects.order_by("pk").values()
    )


def future(days=5, hour=10):
    day = (timezone.now() + dt.timedelta(days=days)).date()
    return f"{day:%Y-%m-%d}T{hour:02d}:00"


def call_data(for_account, **extra):
    return {
        "account": for_account.pk,
        "title": "Discovery with Acme",
        "kind": "discovery",
        "starts": future(),
        "ends": future(hour=11),
        "time_zone": "Europe/Berlin",
        "purpose": "Understand their priorities",
        **extra,
    }


# (url name, method, is a write)
VIEWS = [
    ("callprep:call_detail", "get", False),
    ("callprep:call_ics", "get", False),
    ("callprep:call_edit", "get", True),
    ("callprep:call_edit", "post", True),
]


@pytest.fixture
def call(acme, dana, make_call, victor):
    call = make_call(acme, executive=victor)
    call.contacts.add(dana)
    return call


@pytest.mark.parametrize(("name", "method", "write"), VIEWS)
def test_anonymous_visitors_are_sent_to_sign_in(client, call, name, method, write):
    before = snapshot()

    response = getattr(client, method)(reverse(name, args=[call.pk]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert snapshot() == before


@pytest.mark.parametrize("outsider", ["charlie", "walter", "nobody"])
@pytest.mark.parametrize(("name", "method", "write"), VIEWS)
def test_outsiders_get_404_and_nothing_changes(
    client, request, call, acme, outsider, name, method, write
):
    client.force_login(request.getfixturevalue(outsider))
    before = snapshot()

    response = getattr(client, method)(reverse(name, args=[call.pk]), call_data(acme))

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("reader", ["bob", "mallory", "victor"])
@pytest.mark.parametrize(("name", "method", "write"), VIEWS)
def test_read_only_users_get_403_on_writes(
    client, request, call, acme, reader, name, method, write
):
    client.force_login(request.getfixturevalue(reader))
    before = snapshot()

    response = getattr(client, method)(reverse(name, args=[call.pk]), call_data(acme))

    assert response.status_code == (403 if write else 200)
    assert snapshot() == before


def test_a_rep_schedules_a_call_in_the_customers_time_zone(alice_client, alice, acme, dana, victor):
    response = alice_client.post(
        reverse("callprep:call_create") + f"?account={acme.pk}",
        call_data(acme, executive=victor.pk, contacts=[dana.pk], location="Their HQ"),
    )

    call = Call.objects.get()
    assert response.status_code == 302
    assert response.url == call.get_absolute_url()
    assert call.owner == alice
    assert call.created_by == alice
    assert call.executive == victor
    assert list(call.contacts.all()) == [dana]
    assert call.local_start.hour == 10
    assert call.local_start.tzinfo == zoneinfo.ZoneInfo("Europe/Berlin")
    assert call.ends_at - call.starts_at == dt.timedelta(hours=1)
    assert call.status == CallStatus.SCHEDULED


def test_the_call_form_offers_the_accounts_contacts_when_the_account_is_given(
    alice_client, acme, dana, westwind
):
    Contact.objects.create(account=westwind, name="Otto Outsider")

    html = alice_client.get(reverse("callprep:call_create") + f"?account={acme.pk}").content
    html = html.decode()

    assert "Dana Buyer" in html and "Otto Outsider" not in html
    assert f'action="{reverse("callprep:call_create")}?account={acme.pk}"' in html


def test_a_call_must_end_after_it_starts(alice_client, acme):
    response = alice_client.post(
        reverse("callprep:call_create"), call_data(acme, ends=future(hour=9))
    )

    assert response.status_code == 200
    assert "The call must end after it starts." in response.content.decode()
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "This field is required."),
        ("kind", "party", "Select a valid choice"),
        ("starts", "tomorrow-ish", "Enter a valid date/time."),
        ("starts", "0001-01-01T10:00", "The year 1 is outside the years a call may fall in"),
        ("ends", "9999-12-31T23:30", "The year 9999 is outside the years a call may fall in"),
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
        ("meeting_url", "zoom me", "Enter a valid URL."),
        ("account", "999999", "Select a valid choice"),
    ],
)
def test_each_call_field_rejects_bad_values(alice_client, acme, field, value, message):
    response = alice_client.post(reverse("callprep:call_create"), call_data(acme, **{field: value}))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Call.objects.exists()


def test_attendees_must_work_at_the_calls_customer(alice_client, acme, alice, east):
    from accounts.models import Account

    other = Account.objects.create(name="Other Fictional", owner=alice, team=east)
    stranger = Contact.objects.create(account=other, name="Stranger")

    response = alice_client.post(
        reverse("callprep:call_create"), call_data(acme, contacts=[stranger.pk])
    )

    assert response.status_code == 200
    assert "contacts" in response.context["form"].errors
    assert not Call.objects.exists()


def test_a_rep_cannot_schedule_a_call_on_a_teammates_account(client, bob, acme):
    client.force_login(bob)

    assert client.get(reverse("callprep:call_create") + f"?account={acme.pk}").status_code == 403
    response = client.post(reverse("callprep:call_create"), call_data(acme))
    assert "account" in response.context["form"].errors
    assert not Call.objects.exists()


def test_a_rep_cannot_schedule_a_call_on_an_outsiders_account(client, charlie, acme):
    client.force_login(charlie)

    assert client.get(reverse("callprep:call_create") + f"?account={acme.pk}").status_code == 404


@pytest.mark.parametrize("who", ["mallory", "victor", "nobody"])
def test_only_reps_and_admins_schedule_calls(client, request, who, acme):
    client.force_login(request.getfixturevalue(who))

    assert client.post(reverse("callprep:call_create"), call_data(acme)).status_code == 403
    assert not Call.objects.exists()


def test_all_day_calls_span_whole_days(alice_client, acme):
    alice_client.post(
        reverse("callprep:call_create"),
        call_data(acme, all_day="on", starts=future(hour=9), ends=future(hour=9)),
    )

    call = Call.objects.get()
    assert call.all_day
    assert call.local_start.hour == 0
    assert call.ends_at - call.starts_at == dt.timedelta(days=1)


def test_editing_a_call_keeps_its_wall_clock_time(alice_client, call, acme):
    call.time_zone = "America/New_York"
    call.save()
    page = alice_client.get(reverse("callprep:call_edit", args=[call.pk]))
    initial = page.context["form"].initial["starts"]

    response = alice_client.post(
        reverse("callprep:call_edit", args=[call.pk]),
        call_data(
            acme,
            status="completed",
            time_zone="America/New_York",
            starts=f"{initial:%Y-%m-%dT%H:%M}",
            ends=f"{initial + dt.timedelta(hours=2):%Y-%m-%dT%H:%M}",
        ),
    )

    assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == "completed"
    assert call.local_start.replace(tzinfo=None) == initial
    assert call.sequence == 1


def test_the_call_page_shows_the_up_front_contract(alice_client, call):
    call.agreed_outcome = "Agree on a pilot scope"
    call.save()

    html = alice_client.get(reverse("callprep:call_detail", args=[call.pk])).content.decode()

    assert "Agree on a pilot scope" in html
    assert "Dana Buyer" in html
    assert reverse("callprep:call_ics", args=[call.pk]) in html


# --- My calls ------------------------------------------------------------------------------


def test_my_calls_lists_the_next_14_days_first(alice_client, acme, make_call, westwind):
    soon = make_call(acme, days=2, title="Soon call")
    later = make_call(acme, days=30, title="Later call")
    past = make_call(acme, days=-3, title="Past call")
    make_call(westwind, days=1, title="Charlie's call")

    response = alice_client.get(reverse("callprep:my_calls"))

    assert list(response.context["soon"]) == [soon]
    assert list(response.context["later"]) == [later]
    assert list(response.context["past"]) == [past]
    html = response.content.decode()
    assert html.index("Soon call") < html.index("Later call") < html.index("Past call")
    assert "Charlie" not in html
    assert "Not started" in html  # the brief's status has its place


def test_my_calls_leaves_out_cancelled_upcoming_calls(alice_client, acme, make_call):
    make_call(acme, days=2, status=CallStatus.CANCELLED)

    assert not alice_client.get(reverse("callprep:my_calls")).context["soon"]


def test_my_calls_does_not_show_a_teammates_calls(client, bob, acme, make_call):
    make_call(acme, days=2)
    client.force_login(bob)

    assert not client.get(reverse("callprep:my_calls")).context["soon"]


def test_my_calls_runs_a_constant_number_of_queries(alice_client, acme, make_call, victor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_call(acme, days=2, executive=victor)
    with CaptureQueriesContext(connection) as one:
        alice_client.get(reverse("callprep:my_calls"))
    for day in range(3, 12):
        make_call(acme, days=day, executive=victor)
    with CaptureQueriesContext(connection) as ten:
        alice_client.get(reverse("callprep:my_calls"))

    assert len(one) == len(ten)


def test_the_account_in_the_link_is_chosen_on_the_call_form(alice_client, acme):
    response = alice_client.get(reverse("callprep:call_create") + f"?account={acme.pk}")

    assert response.context["form"]["account"].value() == acme.pk

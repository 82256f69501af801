"""Customer data for the account tests: alice (East) owns Acme, charlie (West) owns Westwind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Account, BuyingRole, Contact, Team
from salesprep.celery import app as celery_app


@pytest.fixture
def east(alice):
    return Team.objects.get(name="East")


@pytest.fixture
def acme(alice, east):
    return Account.objects.create(
        name="Acme Fictional Corp",
        website="https://www.acme.example",
        domain="acme.example",
        naics_code="541511",
        country="US",
        owner=alice,
        team=east,
    )


@pytest.fixture
def westwind(charlie):
    return Account.objects.create(
        name="Westwind Fictional GmbH",
        website="https://westwind.example",
        domain="westwind.example",
        country="DE",
        owner=charlie,
        team=Team.objects.get(name="West"),
    )


@pytest.fixture
def dana(acme):
    return Contact.objects.create(
        account=acme,
        name="Dana Buyer",
        title="CFO",
        email="dana@acme.example",
        buying_role=BuyingRole.ECONOMIC_BUYER,
    )


@pytest.fixture
def make_call():
    from callprep.models import Call

    def make(account, *, owner=None, executive=None, days=3, hours=1, **extra):
        starts = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=days)
        return Call.objects.create(
            account=account,
            owner=owner or account.owner,
            executive=executive,
            title=extra.pop("title", f"Call with {account.name}"),
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=hours),
            time_zone=extra.pop("time_zone", "UTC"),
            **extra,
        )

    return make


def htmx(**headers):
    return {"HTTP_HX_REQUEST": "true", **headers}


@pytest.fixture(autouse=True)
def fresh_reset_limits():
    """The reset limits live in the shared cache: start each test with none counted."""
    keys = []
    for name, key in [
        ("password_reset_email", "alice@example.com"),
        ("password_reset_email", "ada@example.com"),
        ("password_reset_address", "127.0.0.1"),
        ("password_reset_address", "198.51.100.30"),
    ]:
        keys += [f"ratelimit:{name}:{key}:start", f"ratelimit:{name}:{key}:count"]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def eager_tasks():
    """The worker's task runs in-process, so its e-mail reaches Django's test outbox."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, Contact, Team, User
from callprep.models import Call

pytestmark = pytest.mark.django_db


def counts():
    return (
        Account.objects.count(),
        Contact.objects.count(),
        Call.objects.count(),
        User.objects.count(),
        Team.objects.count(),
    )


def test_the_benchmark_reports_queries_and_timings_and_leaves_nothing_behind(acme):
    before = counts()
    out = io.StringIO()

    call_command(
        "bench_accounts",
        accounts=120,
        runs=3,
        sizes="5,50",
        allow_production=True,
        check=False,
        stdout=out,
    )

    text = out.getvalue()
    assert "Created 120 accounts" in text
    assert "p95 ms" in text
    assert "Rolled back: nothing was written." in text
    rows = [line.split() for line in text.splitlines() if line.startswith("list ")]
    assert [row[1] for row in rows] == ["5", "50"]
    assert rows[0][2] == rows[1][2] and int(rows[0][2]) > 0  # same query count
    assert counts() == before


def test_the_benchmark_refuses_a_production_database():
    with pytest.raises(CommandError, match="production"):
        call_command("bench_accounts", accounts=10, runs=1)

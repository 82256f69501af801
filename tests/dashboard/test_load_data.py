"""The load-data generator and the dashboard benchmark, at a size a test can afford.

The generator bulk-loads with COPY on PostgreSQL: the rows go past the ORM and every service
function, and its last step, ``reconcile_call_facts``, writes the calls' facts. So this is where
the facts are shown to follow a bulk load: equal to what the tables say, and nothing left for
the periodic reconciliation to repair.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from callprep.dashboard.facts import reconcile_call_facts
from callprep.dashboard.models import CallFact
from callprep.models import Call
from tests.dashboard.test_callfacts import expected_facts, joined_facts, stored_facts


def generate(calls: int, **options) -> None:
    call_command(
        "generate_load_data",
        reps=8,
        teams=2,
        accounts=40,
        calls=calls,
        executives=2,
        force=True,
        stdout=StringIO(),
        **options,
    )


@pytest.fixture
def load_data(db):
    generate(400)


def test_bulk_loaded_calls_have_facts_equal_to_their_join(load_data):
    assert Call.objects.count() == 400
    assert CallFact.objects.count() == 400
    assert stored_facts() == expected_facts() == joined_facts()
    assert reconcile_call_facts() == {"checked": 400, "written": 0}


def test_regenerating_the_load_data_leaves_no_facts_behind(load_data):
    generate(150, reset=True)
    # The generator reuses the ids it deleted: a stale fact would differ from the join here.
    assert CallFact.objects.count() == 150
    assert stored_facts() == expected_facts() == joined_facts()


def test_the_benchmark_prints_times_and_queries_for_both_views(load_data):
    out = StringIO()
    call_command("bench_dashboard", runs=3, no_plans=True, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "400 calls, " + lines[0].split(", ")[1]
    for label in ("team", "organisation"):
        line = next(line for line in lines if line.strip().startswith(f"{label}:"))
        assert "queries, p50" in line and "ms, p95" in line
    assert lines[-1].startswith("Team view plans: ")

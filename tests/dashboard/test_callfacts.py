"""The calls' facts (the dashboard's read model) stay equal to the tables they come from.

Every test changes the source tables the way some part of the product does (the ORM,
``update()``, bulk inserts, deletes, cascades) and compares every stored fact with the join
computed here in Python, independently of the triggers. The module runs on PostgreSQL, and
once more on SQLite in a subprocess (``test_the_sqlite_triggers_keep_the_same_facts``).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.models import Account
from callprep.briefs.models import Brief, BriefSection, BriefStatus
from callprep.dashboard.models import CallFact
from callprep.models import Call, CallKind, CallStatus
from callprep.review.models import ExecutiveRead
from tests.dashboard.conftest import NOW, D, H, add_brief, add_call
from tests.helpers import ROOT, project_env

# Run here on PostgreSQL only, and left out of the SQLite run: row locks between connections,
# and the SQLite run itself.
POSTGRES_ONLY = ("two_transactions", "sqlite_triggers")


def expected_facts() -> dict[int, tuple]:
    """Every call's facts, joined here from the source tables."""
    reads = {(r.brief_id, r.user_id): r.read_at for r in ExecutiveRead.objects.all()}
    briefs = {b.call_id: b for b in Brief.objects.all()}
    facts = {}
    for call in Call.objects.select_related("account"):
        brief = briefs.get(call.pk)
        facts[call.pk] = (
            call.account.team_id,
            call.owner_id,
            call.executive_id,
            call.kind,
            call.status,
            call.starts_at,
            call.time_zone,
            brief.status if brief else "",
            brief.approved_at if brief else None,
            reads.get((brief.pk, call.executive_id)) if brief else None,
            brief.sections_required if brief else 0,
            brief.sections_complete if brief else 0,
        )
    return facts


def stored_facts() -> dict[int, tuple]:
    return {
        f.call_id: (
            f.team_id,
            f.owner_id,
            f.executive_id,
            f.kind,
            f.status,
            f.starts_at,
            f.time_zone,
            f.brief_status,
            f.approved_at,
            f.executive_read_at,
            f.sections_required,
            f.sections_complete,
        )
        for f in CallFact.objects.all()
    }


def assert_in_step():
    assert stored_facts() == expected_facts()


def fact(call: Call) -> CallFact:
    return CallFact.objects.get(call=call)


@pytest.fixture
def call(acme, victor):
    return add_call(acme, NOW + 5 * D, executive=victor, title="Quarterly review")


def test_a_new_call_has_its_facts_at_once(call, acme):
    facts = fact(call)
    assert (facts.team_id, facts.owner_id, facts.executive_id) == (
        acme.team_id,
        call.owner_id,
        call.executive_id,
    )
    assert facts.brief_status == "" and facts.approved_at is None
    assert facts.sections_required == facts.sections_complete == 0
    assert_in_step()


def test_the_brief_its_approval_and_its_completeness_reach_the_facts(call, victor):
    brief = add_brief(call, BriefStatus.DRAFT, complete=2)
    assert (fact(call).brief_status, fact(call).sections_complete) == (BriefStatus.DRAFT, 2)
    # A section turning complete moves the brief's count (migration 0008), and so the facts.
    section = BriefSection.objects.filter(brief=brief, required=True, state="empty").first()
    BriefSection.objects.filter(pk=section.pk).update(state="complete")
    assert fact(call).sections_complete == 3
    Brief.objects.filter(pk=brief.pk).update(status=BriefStatus.APPROVED, approved_at=NOW)
    facts = fact(call)
    assert (facts.brief_status, facts.approved_at) == (BriefStatus.APPROVED, NOW)
    assert_in_step()


def test_only_the_reading_of_the_calls_own_executive_counts(call, victor, walter):
    brief = add_brief(call, BriefStatus.APPROVED, approved_at=NOW - 3 * D)
    ExecutiveRead.objects.create(brief=brief, user=walter, read_at=NOW - 2 * D)
    assert fact(call).executive_read_at is None
    read = ExecutiveRead.objects.create(brief=brief, user=victor, read_at=NOW - D)
    assert fact(call).executive_read_at == NOW - D
    ExecutiveRead.objects.filter(pk=read.pk).update(read_at=NOW - 2 * H)
    assert fact(call).executive_read_at == NOW - 2 * H
    # Another executive on the call: their read (walter's) is the one that counts now.
    Call.objects.filter(pk=call.pk).update(executive=walter)
    assert fact(call).executive_read_at == NOW - 2 * D
    ExecutiveRead.objects.filter(user=walter).delete()
    assert fact(call).executive_read_at is None
    assert_in_step()


def test_moving_an_account_to_another_team_moves_the_facts_of_its_calls(call, acme, west):
    second = add_call(acme, NOW + 6 * D, title="Second")
    acme.team = west
    acme.save()
    assert {fact(call).team_id, fact(second).team_id} == {west.pk}
    Account.objects.filter(pk=acme.pk).update(team=None)
    assert fact(call).team_id is None and fact(second).team_id is None
    assert_in_step()


def test_rescheduling_cancelling_and_editing_a_call_reach_the_facts(call, bob):
    add_brief(call, BriefStatus.SUBMITTED)
    moved = NOW + 9 * D
    Call.objects.filter(pk=call.pk).update(starts_at=moved, ends_at=moved + H)
    call.refresh_from_db()
    call.time_zone = "America/Los_Angeles"
    call.kind = CallKind.NEGOTIATION
    call.owner = bob
    call.save()
    Call.objects.filter(pk=call.pk).update(status=CallStatus.CANCELLED)
    facts = fact(call)
    assert (facts.starts_at, facts.time_zone, facts.kind, facts.owner_id, facts.status) == (
        moved,
        "America/Los_Angeles",
        CallKind.NEGOTIATION,
        bob.pk,
        CallStatus.CANCELLED,
    )
    assert_in_step()


def test_deletes_and_cascades_leave_no_stale_facts(call, acme, victor):
    brief = add_brief(call, BriefStatus.APPROVED, approved_at=NOW, complete=7)
    ExecutiveRead.objects.create(brief=brief, user=victor, read_at=NOW)
    brief.delete()  # its sections and reads go with it
    facts = fact(call)
    assert (facts.brief_status, facts.approved_at, facts.executive_read_at) == ("", None, None)
    assert facts.sections_complete == 0
    other = add_call(acme, NOW + D, brief=BriefStatus.DRAFT)
    call.delete()
    assert not CallFact.objects.filter(call_id=call.pk).exists()
    assert_in_step()
    acme.delete()  # every call of the account, their briefs, and so every fact
    assert not CallFact.objects.filter(call_id=other.pk).exists()
    assert CallFact.objects.count() == 0


def test_bulk_created_calls_and_briefs_have_their_facts(acme, alice):
    calls = Call.objects.bulk_create(
        Call(
            account=acme,
            owner=alice,
            title=f"Bulk {i}",
            starts_at=NOW + i * H,
            ends_at=NOW + (i + 1) * H,
        )
        for i in range(25)
    )
    Brief.objects.bulk_create(
        Brief(call=c, account=acme, status=BriefStatus.SUBMITTED, created_by=alice)
        for c in calls[:10]
    )
    assert CallFact.objects.count() == 25
    assert CallFact.objects.filter(brief_status=BriefStatus.SUBMITTED).count() == 10
    assert_in_step()


def test_an_update_the_facts_do_not_read_leaves_them_alone(call):
    before = fact(call)
    Call.objects.filter(pk=call.pk).update(title="Renamed", agenda="New agenda")
    assert stored_facts() == {call.pk: stored_facts()[call.pk]}
    after = fact(call)
    assert (after.starts_at, after.kind, after.status) == (
        before.starts_at,
        before.kind,
        before.status,
    )
    assert_in_step()


@pytest.mark.django_db(transaction=True)
def test_two_transactions_changing_one_call_keep_both_changes(acme, victor):
    """One marks the executive's read, the other changes the call at the same time: the
    second waits for the first and reads the join afresh, so neither change is lost."""
    call = add_call(acme, NOW + 5 * D, executive=victor)
    brief = add_brief(call, BriefStatus.APPROVED, approved_at=NOW)
    read_made, errors = threading.Event(), []

    def change_the_call():
        try:
            read_made.wait(10)
            Call.objects.filter(pk=call.pk).update(kind=CallKind.NEGOTIATION)
        except Exception as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    other = threading.Thread(target=change_the_call)
    other.start()
    with transaction.atomic():
        ExecutiveRead.objects.create(brief=brief, user=victor, read_at=NOW + H)
        read_made.set()
        # Commit only once the other transaction waits on the call's facts.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _someone_waits_for_a_lock():
            time.sleep(0.02)
        assert _someone_waits_for_a_lock(), "the call's update never waited for the read"
    other.join(10)
    assert not errors
    facts = fact(call)
    assert (facts.kind, facts.executive_read_at) == (CallKind.NEGOTIATION, NOW + H)
    assert_in_step()


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Inside a transaction the activity view is read once and kept: read it afresh.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_the_sqlite_triggers_keep_the_same_facts(tmp_path):
    """This module again, on SQLite (the embedded default): migrations create its triggers."""
    env = project_env(DATABASE_URL=f"sqlite:///{tmp_path / 'facts.sqlite3'}")
    deselect = " and ".join(f"not {name}" for name in POSTGRES_ONLY)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-k", deselect],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # Everything but the PostgreSQL-only tests ran there, and passed.
    assert summary.startswith("8 passed, 2 deselected"), summary

"""The calls' facts (the dashboard's read model) stay equal to the tables they come from.

Every write path of the product that changes an input of a fact calls
``callprep.dashboard.facts.sync_call_facts`` in its transaction: each test here changes the
tables through one of them (callprep/services.py, callprep/changes.py, the brief services, the
workflow, accounts/services.py) and then finds every stored fact equal to what the tables say
now, read twice: by ``facts.expected_rows`` (the write path's own query) and by a join made here
in Python from the models' own rules (``Brief.completeness_counts``). What goes around the
services (a bulk ``update()``) is repaired by ``reconcile_call_facts``, and a second run finds
nothing to do.

The module runs on PostgreSQL, and once more on SQLite (the embedded default, its tables made
by ``migrate``) in a subprocess: ``test_the_same_module_passes_on_sqlite_through_migrate``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.models import Prefetch
from django.utils import timezone

from accounts.forms import AccountForm
from accounts.models import Account
from accounts.services import save_account
from callprep import workflow
from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.models import (
    FROM_FACT,
    Brief,
    BriefSection,
    BriefStatus,
    on_time_q,
    overdue_q,
)
from callprep.changes import call_changed
from callprep.dashboard.facts import (
    FIELDS,
    expected_rows,
    reconcile_call_facts,
    sync_account_facts,
)
from callprep.dashboard.models import CallFact
from callprep.errors import WorkflowError
from callprep.forms import DATETIME_LOCAL, CallForm
from callprep.models import Call, CallKind, CallStatus
from callprep.review.models import ExecutiveRead
from callprep.services import save_call, schedule_call
from tests.dashboard.conftest import add_brief
from tests.helpers import ROOT, project_env
from tests.review.conftest import PLAN, YES, fill, write

pytestmark = pytest.mark.django_db

REQUIRED = sum(1 for spec in S.SECTIONS if spec.required)
# Run here on PostgreSQL only, and left out of the SQLite run: row locks between connections,
# and the SQLite run itself.
POSTGRES_ONLY = ("two_transactions", "sqlite")


# --- What the facts should be ------------------------------------------------------------------


def as_tuple(fact: CallFact) -> tuple:
    return tuple(getattr(fact, name) for name in FIELDS)


def stored_facts() -> dict[int, tuple]:
    return {f.call_id: as_tuple(f) for f in CallFact.objects.all()}


def expected_facts() -> dict[int, tuple]:
    """Every call's facts as the write path reads them (``facts.expected_rows``)."""
    return {f.call_id: as_tuple(f) for f in expected_rows(Call.objects.all())}


def joined_facts() -> dict[int, tuple]:
    """Every call's facts joined here in Python, with the brief's own completeness rule."""
    reads = {(r.brief_id, r.user_id): r.read_at for r in ExecutiveRead.objects.all()}
    briefs = {
        b.call_id: b
        for b in Brief.objects.prefetch_related(
            Prefetch("sections", queryset=BriefSection.objects.order_by("position"))
        )
    }
    facts = {}
    for call in Call.objects.select_related("account"):
        brief = briefs.get(call.pk)
        complete, required = brief.completeness_counts() if brief else (0, 0)
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
            required,
            complete,
        )
    return facts


def assert_in_step() -> None:
    stored = stored_facts()
    assert stored == expected_facts()
    assert stored == joined_facts()


def fact(call: Call) -> CallFact:
    return CallFact.objects.get(call=call)


# --- Driving the product's write paths ---------------------------------------------------------


def soon(days: float = 5) -> datetime:
    return timezone.now().replace(second=0, microsecond=0) + timedelta(days=days)


def call_form(call: Call | None, user, **changes) -> CallForm:
    """The call's form as its page would post it, with ``changes`` (``starts``: an aware
    datetime, written as wall-clock time in the call's zone)."""
    data = {"kind": CallKind.DISCOVERY}
    if call is not None:
        initial = CallForm(instance=call, user=user)
        data = {name: initial[name].value() for name in initial.fields}
        data = {k: v for k, v in data.items() if v is not None}
    zone = changes.get("time_zone") or (call.time_zone if call else "UTC")
    starts = changes.pop("starts", None) or (call.starts_at if call else soon())
    ends = starts + timedelta(hours=1)
    local = zoneinfo.ZoneInfo(zone)
    data.update(
        starts=starts.astimezone(local).strftime(DATETIME_LOCAL),
        ends=ends.astimezone(local).strftime(DATETIME_LOCAL),
        time_zone=zone,
    )
    data.update({k: ("" if v is None else v) for k, v in changes.items()})
    form = CallForm(data, instance=call, user=user)
    assert form.is_valid(), form.errors
    return form


@pytest.fixture
def call(acme, alice, victor):
    """A call scheduled through its form (callprep.services.schedule_call)."""
    form = call_form(
        None,
        alice,
        account=acme.pk,
        title="Quarterly review",
        kind=CallKind.DISCOVERY,
        executive=victor.pk,
        starts=soon(5),
    )
    return schedule_call(form, by=alice)


@pytest.fixture
def brief(call, alice):
    return services.start_brief(call, by=alice, collect_evidence=False)


def complete_without_the_executive(brief, alice) -> None:
    """Every required section complete, the call plan without the executive's role."""
    fill(brief, alice)
    plain = {k: v for k, v in PLAN.items() if not k.startswith("f-exec_")}
    write(brief, "call_plan", by=alice, fields=S.clean_fields(S.spec_for("call_plan"), plain))


# --- The write paths -------------------------------------------------------------------------


def test_a_call_scheduled_through_its_form_has_its_facts_at_once(call, acme, alice, victor):
    facts = fact(call)
    assert (facts.team_id, facts.owner_id, facts.executive_id) == (
        acme.team_id,
        alice.pk,
        victor.pk,
    )
    assert (facts.kind, facts.status, facts.starts_at) == (
        CallKind.DISCOVERY,
        CallStatus.SCHEDULED,
        call.starts_at,
    )
    assert (facts.brief_status, facts.approved_at, facts.executive_read_at) == ("", None, None)
    assert facts.sections_required == facts.sections_complete == 0
    assert_in_step()


def test_starting_a_brief_writes_its_status_and_completeness(brief):
    facts = fact(brief.call)
    assert facts.brief_status == BriefStatus.DRAFT
    assert (facts.sections_complete, facts.sections_required) == brief.completeness_counts()
    assert facts.sections_required == REQUIRED
    assert_in_step()


def test_a_section_changing_state_moves_the_completeness(brief, alice):
    from tests.briefs.fixtures import LONG_CHALLENGES

    before = fact(brief.call).sections_complete
    section = BriefSection.objects.select_related("brief__call").get(
        brief=brief, key="business_challenges"
    )
    first = services.save_section(section, text=LONG_CHALLENGES, base_version=1, by=alice)
    assert section.state == S.SectionState.COMPLETE
    assert fact(brief.call).sections_complete == before + 1
    assert_in_step()

    services.save_section(section, text="Too short.", base_version=2, by=alice, kind="merge")
    assert section.state != S.SectionState.COMPLETE
    assert fact(brief.call).sections_complete == before
    assert_in_step()

    services.restore_revision(first, by=alice)
    assert fact(brief.call).sections_complete == before + 1
    assert fact(brief.call).sections_required == REQUIRED
    assert_in_step()


def test_submit_approve_and_mark_briefed_reach_the_facts(brief, alice, victor):
    fill(brief, alice)
    assert fact(brief.call).sections_complete == REQUIRED
    workflow.submit_brief(brief, by=alice)
    assert fact(brief.call).brief_status == BriefStatus.SUBMITTED
    assert_in_step()

    workflow.approve_brief(brief, by=victor, answers=YES)
    brief.refresh_from_db()
    facts = fact(brief.call)
    assert (facts.brief_status, facts.approved_at) == (BriefStatus.APPROVED, brief.approved_at)
    # The facts give the rule's answer: approved now, five days before the call, is on time.
    on_time = CallFact.objects.filter(on_time_q(FROM_FACT), call=brief.call).exists()
    assert on_time is brief.is_on_time() is True
    assert_in_step()

    read = workflow.mark_briefed(brief, by=victor)
    assert fact(brief.call).executive_read_at == read.read_at
    assert_in_step()


def test_changes_requested_and_a_resubmission_reach_the_facts(brief, alice, victor):
    fill(brief, alice)
    workflow.submit_brief(brief, by=alice)
    workflow.request_changes(brief, by=victor, comment="Name the economic buyer.")
    assert fact(brief.call).brief_status == BriefStatus.CHANGES_REQUESTED
    assert_in_step()
    workflow.submit_brief(brief, by=alice)
    assert fact(brief.call).brief_status == BriefStatus.SUBMITTED
    assert_in_step()


def test_moving_and_cancelling_a_call_through_its_form_reach_the_facts(brief, alice):
    call = Call.objects.get(pk=brief.call_id)
    earlier = soon(1)
    save_call(call_form(call, alice, starts=earlier, time_zone="America/Los_Angeles"))
    facts = fact(call)
    assert (facts.starts_at, facts.time_zone) == (earlier, "America/Los_Angeles")
    assert_in_step()

    call.refresh_from_db()
    save_call(call_form(call, alice, kind=CallKind.NEGOTIATION))
    assert fact(call).kind == CallKind.NEGOTIATION

    # An hour before the call, its draft is overdue (waiting on the rep)…
    an_hour_before = earlier - timedelta(hours=1)
    overdue = CallFact.objects.filter(overdue_q(an_hour_before, FROM_FACT), call=call)
    assert overdue.exists()
    call.refresh_from_db()
    save_call(call_form(call, alice, status=CallStatus.CANCELLED))
    assert fact(call).status == CallStatus.CANCELLED
    # …and once the call is cancelled, nothing about it is.
    assert not overdue.exists()
    assert_in_step()


def test_an_executive_added_and_removed_moves_completeness_and_submit_agrees(call, alice, victor):
    # The call starts without an executive: the call plan needs no executive's role.
    call.executive = None
    call.save()
    call_changed(call)
    brief = services.start_brief(call, by=alice, collect_evidence=False)
    complete_without_the_executive(brief, alice)
    assert fact(call).sections_complete == REQUIRED

    # The admin or the calendar import saves the call and calls call_changed, as the form does.
    call.executive = victor
    call.save()
    call_changed(call)
    brief.refresh_from_db()
    facts = fact(call)
    assert facts.executive_id == victor.pk
    assert facts.sections_complete == REQUIRED - 1  # the call plan lacks the executive's role
    assert (facts.sections_complete, facts.sections_required) == brief.completeness_counts()
    with pytest.raises(WorkflowError, match="Call plan"):
        workflow.submit_brief(brief, by=alice)
    assert_in_step()

    call.executive = None
    call.save()
    call_changed(call)
    assert fact(call).sections_complete == REQUIRED
    assert_in_step()
    workflow.submit_brief(brief, by=alice)
    assert fact(call).brief_status == BriefStatus.SUBMITTED


def test_only_the_read_of_the_calls_own_executive_counts(brief, alice, victor, make_user):
    vera = make_user("vera", "Executive")
    fill(brief, alice)
    workflow.submit_brief(brief, by=alice)
    read = workflow.mark_briefed(brief, by=victor)
    call = Call.objects.get(pk=brief.call_id)
    assert fact(call).executive_read_at == read.read_at

    save_call(call_form(call, alice, executive=vera.pk))
    assert fact(call).executive_read_at is None  # vera has not read it
    assert_in_step()

    call.refresh_from_db()
    save_call(call_form(call, alice, executive=victor.pk))
    assert fact(call).executive_read_at == read.read_at
    assert_in_step()


def test_moving_an_account_to_another_team_moves_the_facts_of_its_calls(
    call, acme, west, charlie, ada
):
    second = schedule_call(
        call_form(None, ada, account=acme.pk, title="Second", starts=soon(6)), by=ada
    )
    initial = AccountForm(instance=acme, user=ada)
    data = {name: initial[name].value() for name in initial.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    form = AccountForm({**data, "team": west.pk, "owner": charlie.pk}, instance=acme, user=ada)
    assert form.is_valid(), form.errors
    save_account(form, by=ada)
    assert {fact(call).team_id, fact(second).team_id} == {west.pk}
    assert_in_step()

    # A write around the account form: sync_account_facts is the account's path to its facts.
    Account.objects.filter(pk=acme.pk).update(team=None)
    sync_account_facts(acme.pk)
    assert fact(call).team_id is None and fact(second).team_id is None
    assert_in_step()


def test_deleting_a_call_or_its_account_deletes_the_facts(call, brief, acme, ada):
    other = schedule_call(call_form(None, ada, account=acme.pk, title="Other"), by=ada)
    call.delete()  # its brief and the brief's sections go with it
    assert not CallFact.objects.filter(call_id=call.pk).exists()
    assert_in_step()
    acme.delete()  # every call of the account, and so every fact
    assert not CallFact.objects.filter(call_id=other.pk).exists()
    assert CallFact.objects.count() == 0


# --- Reconciliation: what went around the services ---------------------------------------------


def test_reconciling_repairs_bulk_writes_and_a_second_run_writes_nothing(
    call, brief, acme, alice, victor, west
):
    moved = soon(9)
    untouched = schedule_call(call_form(None, alice, account=acme.pk, title="Untouched"), by=alice)
    assert reconcile_call_facts() == {"checked": 2, "written": 0}

    # Writes that go around every service function:
    Call.objects.filter(pk=call.pk).update(starts_at=moved, ends_at=moved + timedelta(hours=1))
    BriefSection.objects.filter(brief=brief, required=True).update(state=S.SectionState.COMPLETE)
    Brief.objects.filter(pk=brief.pk).update(status=BriefStatus.APPROVED, approved_at=soon(0))
    ExecutiveRead.objects.create(brief=brief, user=victor, read_at=soon(0))
    bulk = Call.objects.bulk_create(
        Call(account=acme, owner=alice, title=f"Bulk {i}", starts_at=moved, ends_at=moved)
        for i in range(3)
    )
    Brief.objects.bulk_create([Brief(call=bulk[0], status=BriefStatus.SUBMITTED)])
    CallFact.objects.filter(call=untouched).update(kind=CallKind.NEGOTIATION)  # drifted row
    assert stored_facts() != expected_facts()

    # Small batches, to walk more than one of them.
    assert reconcile_call_facts(batch=2) == {"checked": 5, "written": 5}
    facts = fact(call)
    assert (facts.starts_at, facts.brief_status, facts.sections_complete) == (
        moved,
        BriefStatus.APPROVED,
        REQUIRED,
    )
    assert facts.executive_read_at is not None
    assert fact(bulk[0]).brief_status == BriefStatus.SUBMITTED
    assert fact(untouched).kind == CallKind.DISCOVERY
    assert_in_step()

    assert reconcile_call_facts(batch=2) == {"checked": 5, "written": 0}
    assert_in_step()


def test_an_update_the_facts_do_not_read_needs_no_repair(call):
    before = as_tuple(fact(call))
    Call.objects.filter(pk=call.pk).update(title="Renamed", agenda="New agenda")
    assert reconcile_call_facts() == {"checked": 1, "written": 0}
    assert as_tuple(fact(call)) == before


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_transactions_changing_one_call_keep_both_changes(acme, alice, victor):
    """One changes the call (the form's path) while the executive marks the brief read: the
    read's sync waits for the call's lock and reads the committed call, so neither change is
    lost from the facts."""
    call = Call.objects.create(
        account=acme, owner=alice, executive=victor, title="Race", starts_at=soon(5),
        ends_at=soon(5) + timedelta(hours=1),
    )  # fmt: skip
    brief = add_brief(call, BriefStatus.APPROVED, approved_at=soon(0))
    changed, errors, reads = threading.Event(), [], []

    def mark_read():
        try:
            changed.wait(10)
            reads.append(workflow.mark_briefed(Brief.objects.get(pk=brief.pk), by=victor))
        except Exception as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    other = threading.Thread(target=mark_read)
    other.start()
    try:
        with transaction.atomic():
            Call.objects.filter(pk=call.pk).update(kind=CallKind.NEGOTIATION)
            call_changed(Call.objects.get(pk=call.pk))
            changed.set()
            # Commit only once the read's transaction waits on the call.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not _someone_waits_for_a_lock():
                time.sleep(0.02)
            assert _someone_waits_for_a_lock(), "the read's sync never waited for the call"
    finally:
        changed.set()
        other.join(10)
    assert not errors
    facts = fact(call)
    assert (facts.kind, facts.executive_read_at) == (CallKind.NEGOTIATION, reads[0].read_at)
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


# --- The embedded default ------------------------------------------------------------------


def test_the_same_module_passes_on_sqlite_through_migrate(tmp_path):
    """This module again on SQLite (the embedded default): pytest-django builds the test
    database with ``migrate``, as a newcomer's first run does."""
    env = project_env(DATABASE_URL=f"sqlite:///{tmp_path / 'facts.sqlite3'}")
    deselect = " and ".join(f"not {name}" for name in POSTGRES_ONLY)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-k", deselect],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # Everything but the PostgreSQL-only tests ran there, and passed.
    assert summary.startswith("12 passed, 2 deselected"), summary

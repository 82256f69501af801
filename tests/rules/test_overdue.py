"""Overdue, in its two named cases, and the review queue, with known answers.

*Waiting on the rep*: no brief, a draft or changes requested, past the due time, the call still
ahead and not cancelled. *Waiting on the reviewer*: submitted, past the due time, the call still
ahead and not cancelled. After a call has started, or once it is cancelled, nothing is overdue
and it leaves the review queue and the count in the navigation.

Each rule is a Python function with a ``Q`` twin over the brief, the call or the call's
dashboard facts (``FROM_BRIEF`` / ``FROM_CALL`` / ``FROM_FACT``): they agree on every case of
the grid below, and both agree with the answers worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from callprep import workflow
from callprep.briefs.models import (
    FROM_BRIEF,
    FROM_CALL,
    FROM_FACT,
    Brief,
    BriefStatus,
    in_review_queue_q,
    is_in_review_queue,
    is_on_time,
    is_prepared,
    is_waiting_on_rep,
    is_waiting_on_reviewer,
    on_time_q,
    overdue_q,
    prepared_q,
    waiting_on_rep_q,
    waiting_on_reviewer_q,
)
from callprep.dashboard.facts import sync_call_facts
from callprep.dashboard.models import CallFact
from callprep.models import Call, CallStatus
from callprep.review.context import review_count
from tests.rules.screens import (
    REP,
    REVIEWER,
    Says,
    brief_page_says,
    drill_rows,
    drill_says,
    edit_call,
    import_event,
    move_call,
    page,
    queue_says,
    reminders_say,
    rule_says,
)

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
S = BriefStatus

# --- The grid: every rule's function against its Q twin ----------------------------------------

# Brief states: (status, approved_at relative to the due time) — None: the call has no brief.
BRIEFS = {
    "none": None,
    "draft": (S.DRAFT, None),
    "submitted": (S.SUBMITTED, None),
    "changes requested": (S.CHANGES_REQUESTED, None),
    "approved early": (S.APPROVED, -5 * H),
    "approved at due": (S.APPROVED, 0 * H),
    "approved a minute late": (S.APPROVED, M),
    "approved after the call": (S.APPROVED, 49 * H),
}
# The call's start, from now: started, past due, due right now (the boundary), not yet due.
STARTS = {"started": -3 * H, "past due": 10 * H, "due now": 48 * H, "not yet due": 100 * H}
CALL_STATES = (CallStatus.SCHEDULED, CallStatus.COMPLETED, CallStatus.CANCELLED)

RULES = {
    "on_time": (
        lambda b, c, now: is_on_time(b.status, b.approved_at, c.starts_at) if b else False,
        lambda now, p: on_time_q(p),
    ),
    "prepared": (
        lambda b, c, now: is_prepared(b.status, b.approved_at, c.starts_at) if b else False,
        lambda now, p: prepared_q(p),
    ),
    "waiting_on_rep": (
        lambda b, c, now: is_waiting_on_rep(b.status if b else "", c.status, c.starts_at, now),
        waiting_on_rep_q,
    ),
    "waiting_on_reviewer": (
        lambda b, c, now: is_waiting_on_reviewer(b.status if b else "", c.status, c.starts_at, now),
        waiting_on_reviewer_q,
    ),
    "overdue": (
        lambda b, c, now: c.is_overdue(now),
        overdue_q,
    ),
    "in_review_queue": (
        lambda b, c, now: is_in_review_queue(b.status if b else "", c.status, c.starts_at, now),
        in_review_queue_q,
    ),
}

# Hand-worked answers for the scheduled calls (the rules that hold; every other rule does not).
KNOWN = {
    ("none", "past due"): {"waiting_on_rep", "overdue"},
    ("draft", "past due"): {"waiting_on_rep", "overdue"},
    ("changes requested", "past due"): {"waiting_on_rep", "overdue"},
    ("submitted", "past due"): {"waiting_on_reviewer", "overdue", "in_review_queue"},
    ("submitted", "due now"): {"in_review_queue"},
    ("submitted", "not yet due"): {"in_review_queue"},
    ("submitted", "started"): set(),
    ("draft", "started"): set(),
    ("none", "started"): set(),
    ("draft", "due now"): set(),
    ("none", "not yet due"): set(),
    ("approved early", "past due"): {"on_time", "prepared"},
    ("approved at due", "past due"): {"on_time", "prepared"},
    ("approved a minute late", "past due"): {"prepared"},
    ("approved after the call", "started"): set(),
    ("approved a minute late", "started"): {"prepared"},
}


@pytest.fixture
def grid(acme, alice):
    """One call per (brief state, start, call status), with its facts; returns the cases by
    call id, and the moment the rules are read at."""
    now = timezone.now()
    cases = {}
    for (name, brief), (when, offset), status in itertools.product(
        BRIEFS.items(), STARTS.items(), CALL_STATES
    ):
        starts = now + offset
        call = Call.objects.create(
            account=acme,
            owner=alice,
            title=f"{name}, {when}, {status}",
            status=status,
            starts_at=starts,
            ends_at=starts + H,
        )
        if brief is not None:
            brief_status, approved = brief
            Brief.objects.create(
                call=call,
                status=brief_status,
                created_by=alice,
                approved_at=None if approved is None else starts - 48 * H + approved,
            )
        cases[call.pk] = (name, when, status)
    sync_call_facts(cases)
    return cases, now


def python_answers(now) -> dict[str, set[int]]:
    calls = Call.objects.select_related("brief")
    answers = {rule: set() for rule in RULES}
    for call in calls:
        brief = getattr(call, "brief", None)  # a call with no brief has none
        for rule, (function, _q) in RULES.items():
            if function(brief, call, now):
                answers[rule].add(call.pk)
    return answers


def test_every_rule_and_its_q_twin_agree_on_every_case(grid):
    _cases, now = grid
    python = python_answers(now)
    with_brief = set(Brief.objects.values_list("call_id", flat=True))

    for rule, (_function, q) in RULES.items():
        by_call = set(Call.objects.filter(q(now, FROM_CALL)).values_list("pk", flat=True))
        by_fact = set(CallFact.objects.filter(q(now, FROM_FACT)).values_list("call_id", flat=True))
        by_brief = set(Brief.objects.filter(q(now, FROM_BRIEF)).values_list("call_id", flat=True))
        assert by_call == python[rule], rule
        assert by_fact == python[rule], rule
        assert by_brief == python[rule] & with_brief, rule
    # Some of every answer: the grid is not trivially empty.
    assert all(python.values())


def test_the_rules_give_the_answers_worked_out_by_hand(grid):
    cases, now = grid
    python = python_answers(now)
    checked = 0
    for pk, (name, when, status) in cases.items():
        holds = {rule for rule, ids in python.items() if pk in ids}
        if status != CallStatus.SCHEDULED:
            # Cancelled or marked completed: nothing is overdue, nothing waits in the queue.
            assert not holds & {"waiting_on_rep", "waiting_on_reviewer", "overdue"}, (name, when)
            assert "in_review_queue" not in holds, (name, when, status)
        elif (name, when) in KNOWN:
            assert holds == KNOWN[(name, when)], (name, when)
            checked += 1
    assert checked == len(KNOWN)


def test_the_querysets_and_model_methods_read_the_same_rules(grid):
    _cases, now = grid
    python = python_answers(now)
    calls = list(Call.objects.select_related("brief"))
    briefs = list(Brief.objects.select_related("call"))
    with_brief = {b.call_id for b in briefs}

    assert (
        set(Call.objects.waiting_on_rep(now).values_list("pk", flat=True))
        == python["waiting_on_rep"]
    )
    assert {c.pk for c in calls if c.waiting_on_rep(now)} == python["waiting_on_rep"]
    assert {c.pk for c in calls if c.waiting_on_reviewer(now)} == python["waiting_on_reviewer"]
    for rule, method in (
        ("waiting_on_rep", Brief.waiting_on_rep),
        ("waiting_on_reviewer", Brief.waiting_on_reviewer),
        ("overdue", Brief.is_overdue),
        ("in_review_queue", Brief.in_review_queue),
    ):
        assert {b.call_id for b in briefs if method(b, now)} == python[rule] & with_brief, rule
    for rule, queryset in (
        ("in_review_queue", Brief.objects.in_review_queue(now)),
        ("waiting_on_rep", Brief.objects.waiting_on_rep(now)),
        ("waiting_on_reviewer", Brief.objects.waiting_on_reviewer(now)),
        ("on_time", Brief.objects.on_time()),
    ):
        assert set(queryset.values_list("call_id", flat=True)) == python[rule] & with_brief, rule
    assert {b.call_id for b in briefs if b.is_on_time()} == python["on_time"]
    assert {b.call_id for b in briefs if b.is_prepared()} == python["prepared"]


# --- The screens: rep or reviewer, and nothing after the call or once it is cancelled ----------


def nav_count(client, user) -> int:
    """The number next to "Review queue" in the navigation (none shown: 0)."""
    text = page(client, user, reverse("profile"))
    found = re.search(r'class="nav-count" aria-label="(\d+) waiting"', text)
    return int(found.group(1)) if found else 0


@pytest.fixture
def changes_requested(submitted, victor):
    workflow.request_changes(submitted, by=victor, comment="Name the economic buyer.")
    return submitted


OVERDUE_AS = {"brief": REP, "changes_requested": REP, "submitted": REVIEWER}


@pytest.mark.parametrize("state", OVERDUE_AS)
def test_a_late_brief_waits_on_the_rep_or_on_the_reviewer_on_every_screen(
    state, request, client, alice, victor, mallory
):
    brief = request.getfixturevalue(state)
    call = move_call(brief.call, -42 * H, rep=alice)  # 30 hours ahead, due 18 hours ago
    brief = Brief.objects.select_related("call").get(pk=brief.pk)
    waiting = OVERDUE_AS[state]

    assert rule_says(brief) == Says(False, waiting)
    assert brief_page_says(client, alice, brief) == Says(False, waiting)
    assert drill_says(client, mallory, call) == Says(False, waiting)
    assert (call.pk in drill_rows(client, mallory, "waiting_on_rep")) == (waiting == REP)
    assert (call.pk in drill_rows(client, mallory, "waiting_on_reviewer")) == (waiting == REVIEWER)
    assert call.pk in drill_rows(client, mallory, "overdue")
    # The queue holds what waits on the reviewer; the reminders chase the rep.
    assert queue_says(client, victor, brief) == (REVIEWER if waiting == REVIEWER else None)
    assert review_count(victor) == nav_count(client, victor) == int(waiting == REVIEWER)
    assert reminders_say(call) == (REP if waiting == REP else "")


def cancel(call, rep, client):
    return edit_call(call, by=rep, client=client, status=CallStatus.CANCELLED)


def take_place(call, rep, client):
    """Move the call to an hour ago: it has taken place."""
    return move_call(call, timezone.now() - H - call.starts_at, rep=rep, client=client)


def cancel_in_the_calendar(call, rep, client):
    return import_event(client, rep, call, starts=call.starts_at, cancelled=True)


@pytest.mark.parametrize(
    "change",
    [cancel, cancel_in_the_calendar, take_place],
    ids=["cancelled", "cancelled in the calendar", "past"],
)
@pytest.mark.parametrize("state", ["brief", "submitted"])
def test_after_a_call_or_once_it_is_cancelled_nothing_is_overdue_and_the_queue_lets_go(
    state, change, request, client, alice, victor, mallory
):
    brief = request.getfixturevalue(state)
    call = move_call(brief.call, -42 * H, rep=alice)  # overdue first
    assert Brief.objects.get(pk=brief.pk).is_overdue()
    in_queue_before = int(state == "submitted")
    assert review_count(victor) == nav_count(client, victor) == in_queue_before

    call = change(call, alice, client)
    brief = Brief.objects.select_related("call").get(pk=brief.pk)
    now = timezone.now()

    assert not brief.is_overdue(now) and not call.is_overdue(now)
    assert rule_says(brief, now) == Says(False)
    assert brief_page_says(client, alice, brief) == Says(False)
    for measure in ("overdue", "waiting_on_rep", "waiting_on_reviewer"):
        assert call.pk not in drill_rows(client, mallory, measure), measure
    assert not Brief.objects.filter(overdue_q(now), pk=brief.pk).exists()
    assert reminders_say(call) == ""
    # Out of the review queue, its page and its count.
    assert not brief.in_review_queue(now)
    assert not Brief.objects.in_review_queue(now).filter(pk=brief.pk).exists()
    assert queue_says(client, victor, brief) is None
    assert review_count(victor) == nav_count(client, victor) == 0
    # The brief keeps its state: only the call changed.
    assert brief.status == (S.SUBMITTED if state == "submitted" else S.DRAFT)
    if change is take_place:
        # A call that has taken place is still on the dashboard (not overdue, just late).
        assert drill_says(client, mallory, call) == Says(False)

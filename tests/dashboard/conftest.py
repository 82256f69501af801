"""A hand-built data set with known answers for the prep dashboard.

NOW is Wednesday 18 June 2025, 12:00 UTC; briefs are due 48 hours before their call.
East (alice, bob; managed by mallory) on the Acme account, West (charlie; walter) on Westwind:

    call  rep      starts     brief                                   facts
    c1    alice    NOW-10d    approved 72 h before   7/7  victor read  on time, lead 72 h
    c2    alice    NOW-9d     approved exactly at due 7/7 victor       on time (boundary), 48 h
    c3    alice    NOW-8d     approved 47 h before   7/7              late by 1 h, lead 47 h
    c4    bob      NOW-7d     draft                  3/7              due, not prepared
    c5    bob      NOW-6d     none                                    due, not prepared
    c6    bob      NOW+1d     submitted              7/7  victor      overdue
    c7    alice    NOW+5d     approved NOW-1h        7/7              on time early, lead 121 h
    c8    alice    NOW+10d    draft                  0/7              not due yet
    c9    alice    NOW-5d     approved on time, CANCELLED             never counted
    w1    charlie  NOW-3d     approved on time (West)                 only for West / everyone
"""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Account, Team
from callprep.briefs import sections as S
from callprep.briefs.models import Brief, BriefSection, BriefStatus
from callprep.dashboard.facts import sync_call_facts
from callprep.models import Call, CallStatus
from callprep.review.models import ExecutiveRead

NOW = dt.datetime(2025, 6, 18, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def add_call(
    account,
    starts,
    *,
    owner=None,
    executive=None,
    time_zone="UTC",
    status=CallStatus.SCHEDULED,
    title="Call",
    brief: str | None = None,
    approved_at=None,
    complete: int = 0,
    kind="discovery",
) -> Call:
    """A call, and (``brief`` = a status) its brief with ``complete`` required sections done."""
    call = Call.objects.create(
        account=account,
        owner=owner or account.owner,
        executive=executive,
        title=title,
        kind=kind,
        status=status,
        starts_at=starts,
        ends_at=starts + H,
        time_zone=time_zone,
    )
    if brief is not None:
        add_brief(call, brief, approved_at=approved_at, complete=complete)
    else:
        # Made with the ORM, not through callprep/services.py: write its facts as they would.
        sync_call_facts([call.pk])
    return call


def add_brief(call, status, *, approved_at=None, complete=0) -> Brief:
    """A brief in ``status`` with its first ``complete`` required sections complete, made with
    the ORM; its call's facts are written as the service functions would."""
    brief = Brief.objects.create(
        call=call,
        status=status,
        created_by=call.owner,
        approved_at=approved_at,
        approved_by=call.executive if approved_at else None,
    )
    rows, done = [], 0
    for position, spec in enumerate(S.SECTIONS):
        state = S.SectionState.EMPTY
        if spec.required and done < complete:
            state, done = S.SectionState.COMPLETE, done + 1
        rows.append(
            BriefSection(
                brief=brief, key=spec.key, position=position, required=spec.required, state=state
            )
        )
    BriefSection.objects.bulk_create(rows)
    sync_call_facts([call.pk])
    return brief


def add_read(brief, user, read_at) -> ExecutiveRead:
    """An executive's read of a brief at ``read_at`` (``mark_briefed`` takes the clock's time),
    with the call's facts written as ``mark_briefed`` would."""
    read = ExecutiveRead.objects.create(brief=brief, user=user, read_at=read_at)
    sync_call_facts([brief.call_id])
    return read


@pytest.fixture
def east(alice, bob, mallory):
    return Team.objects.get(name="East")


@pytest.fixture
def west(charlie, walter):
    return Team.objects.get(name="West")


@pytest.fixture
def acme(east, alice):
    return Account.objects.create(name="Acme", owner=alice, team=east)


@pytest.fixture
def westwind(west, charlie):
    return Account.objects.create(name="Westwind", owner=charlie, team=west)


def build_known(NOW, acme, westwind, bob, victor) -> dict[str, Call]:
    """The data set of the module docstring around ``NOW``; returns the calls by name."""
    A = BriefStatus.APPROVED
    c = {}
    c["c1"] = add_call(
        acme,
        NOW - 10 * D,
        title="c1",
        executive=victor,
        brief=A,
        complete=7,
        approved_at=NOW - 10 * D - 72 * H,
    )
    c["c2"] = add_call(
        acme,
        NOW - 9 * D,
        title="c2",
        executive=victor,
        brief=A,
        complete=7,
        approved_at=NOW - 9 * D - 48 * H,
    )
    c["c3"] = add_call(
        acme, NOW - 8 * D, title="c3", brief=A, complete=7, approved_at=NOW - 8 * D - 47 * H
    )
    c["c4"] = add_call(
        acme, NOW - 7 * D, title="c4", owner=bob, brief=BriefStatus.DRAFT, complete=3
    )
    c["c5"] = add_call(acme, NOW - 6 * D, title="c5", owner=bob)
    c["c6"] = add_call(
        acme,
        NOW + 1 * D,
        title="c6",
        owner=bob,
        executive=victor,
        brief=BriefStatus.SUBMITTED,
        complete=7,
    )
    c["c7"] = add_call(acme, NOW + 5 * D, title="c7", brief=A, complete=7, approved_at=NOW - H)
    c["c8"] = add_call(acme, NOW + 10 * D, title="c8", brief=BriefStatus.DRAFT, complete=0)
    c["c9"] = add_call(
        acme,
        NOW - 5 * D,
        title="c9",
        status=CallStatus.CANCELLED,
        brief=A,
        complete=7,
        approved_at=NOW - 9 * D,
    )
    c["w1"] = add_call(
        westwind, NOW - 3 * D, title="w1", brief=A, complete=7, approved_at=NOW - 6 * D
    )
    add_read(c["c1"].brief, victor, NOW - 10 * D - 2 * H)
    return c  # fmt: skip


@pytest.fixture
def known(acme, westwind, bob, victor):
    """The data set at the fixed NOW (for the metric functions, which take ``now``)."""
    return build_known(NOW, acme, westwind, bob, victor)


@pytest.fixture
def live_now():
    from django.utils import timezone

    return timezone.now().replace(second=0, microsecond=0)


@pytest.fixture
def live_known(live_now, acme, westwind, bob, victor):
    """The same data set around the real time, for the views (which use the clock)."""
    return build_known(live_now, acme, westwind, bob, victor)

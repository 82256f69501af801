"""The completeness the dashboard reads (the calls' facts) follows a brief's sections through
every change, and agrees with the brief's own rule (``Brief.completeness_counts``), with "My
calls" (``calls_with_brief``) and with the submit check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from callprep import workflow
from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.models import Brief, BriefSection, calls_with_brief
from callprep.changes import call_changed
from callprep.dashboard import metrics
from callprep.dashboard.models import CallFact
from callprep.errors import WorkflowError
from callprep.models import Call
from tests.briefs.fixtures import LONG_CHALLENGES
from tests.review.conftest import fill

from .conftest import add_call

pytestmark = pytest.mark.django_db

REQUIRED = sum(1 for spec in S.SECTIONS if spec.required)


@pytest.fixture
def started(acme, alice):
    call = add_call(acme, timezone.now() + timedelta(days=3), title="Visit")
    return services.start_brief(call, by=alice, collect_evidence=False)


@pytest.fixture
def section(started):
    return BriefSection.objects.select_related("brief__call").get(
        brief=started, key="business_challenges"
    )


def stored(brief) -> tuple[int, int]:
    """(complete, required) as the dashboard's facts of the brief's call hold them."""
    row = CallFact.objects.values_list("sections_complete", "sections_required")
    return tuple(row.get(call=brief.call_id))


def counted(brief) -> tuple[int, int]:
    """(complete, required) by the brief's own rule, over its sections as they are now."""
    return Brief.objects.get(pk=brief.pk).completeness_counts()


def test_a_new_brief_stores_the_completeness_of_its_sections(started):
    assert stored(started) == counted(started)
    assert stored(started)[1] == REQUIRED


def test_saving_and_restoring_a_section_keeps_the_stored_completeness(started, section, alice):
    before = stored(started)[0]
    first = services.save_section(section, text=LONG_CHALLENGES, base_version=1, by=alice)
    assert section.state == S.SectionState.COMPLETE
    assert stored(started) == counted(started) == (before + 1, REQUIRED)

    services.save_section(section, text="Too short.", base_version=2, by=alice, kind="merge")
    assert section.state != S.SectionState.COMPLETE
    assert stored(started) == counted(started) == (before, REQUIRED)

    services.restore_revision(first, by=alice)
    assert stored(started) == counted(started) == (before + 1, REQUIRED)


def test_the_dashboard_reads_the_stored_completeness(started, section, alice, east):
    day = started.call.local_start.date()
    services.save_section(section, text=LONG_CHALLENGES, base_version=1, by=alice)
    total = metrics.dashboard(metrics.Scope(teams=(east.pk,), start=day, end=day)).total
    assert (total.sections_complete, total.sections_total) == counted(started)


def test_an_executive_joining_a_complete_brief_changes_every_screens_answer_and_submit(
    started, alice, victor, east
):
    """The call plan needs the executive's role once one joins: the brief, "My calls", the
    dashboard and the submit check all say the brief is no longer complete, and all say it is
    complete again once the executive leaves."""
    fill(started, alice)
    plan = BriefSection.objects.select_related("brief__call").get(brief=started, key="call_plan")
    no_role = {k: v for k, v in plan.fields.items() if not k.startswith("exec_")}
    services.save_section(plan, text=plan.text, fields=no_role, base_version=plan.version, by=alice)
    call = Call.objects.get(pk=started.call_id)
    day = call.local_start.date()
    scope = metrics.Scope(teams=(east.pk,), start=day, end=day)

    def answers() -> tuple[int, int, int]:
        brief = Brief.objects.get(pk=started.pk)
        listed = calls_with_brief(Call.objects.filter(pk=call.pk)).get()
        board = metrics.dashboard(scope).total
        return (
            brief.completeness_percent,
            round(listed.brief_completeness_percent),
            board.completeness_pct,
        )

    assert answers() == (100, 100, 100)

    call.executive = victor
    call.save()
    call_changed(call)  # what the call form, the calendar import and the admin do
    assert REQUIRED == 7
    assert answers() == (86, 86, 86)  # 6 of 7 required sections
    assert stored(started) == counted(started) == (REQUIRED - 1, REQUIRED)
    with pytest.raises(WorkflowError, match="Call plan"):
        workflow.submit_brief(Brief.objects.get(pk=started.pk), by=alice)

    call.executive = None
    call.save()
    call_changed(call)
    assert answers() == (100, 100, 100)
    workflow.submit_brief(Brief.objects.get(pk=started.pk), by=alice)

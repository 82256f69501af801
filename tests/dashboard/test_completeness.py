"""The completeness a brief keeps for the dashboard follows its sections through every change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.models import Brief, BriefSection
from callprep.dashboard import metrics
from tests.briefs.fixtures import LONG_CHALLENGES

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
    row = Brief.objects.values_list("sections_complete", "sections_required").get(pk=brief.pk)
    return tuple(row)


def counted(brief) -> tuple[int, int]:
    required = BriefSection.objects.filter(brief=brief, required=True)
    return required.filter(state=S.SectionState.COMPLETE).count(), required.count()


def test_a_new_brief_stores_the_completeness_of_its_sections(started):
    assert stored(started) == counted(started)
    assert stored(started)[1] == REQUIRED
    assert (started.sections_complete, started.sections_required) == counted(started)


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

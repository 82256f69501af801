"""Completeness follows every input of its rule, so the stored state and submit agree.

The call plan needs the executive's role (what they say or ask) when an executive joins the
call. A complete brief whose call gains an executive is no longer complete — on My calls, the
call page, the editor, the brief page, the dashboard and at submit alike — and is complete again
when the executive leaves. The call is changed through the call edit page and its service.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.urls import reverse

from callprep import workflow
from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.models import Brief, BriefSection, BriefStatus, percent
from callprep.dashboard.models import CallFact
from callprep.errors import WorkflowError
from tests.review.conftest import PLAN, fill, write
from tests.rules.screens import drill_rows, edit_call, page, period

pytestmark = pytest.mark.django_db

REQUIRED = sum(1 for spec in S.SECTIONS if spec.required)
# The call plan with no word on the executive's role.
PLAN_WITHOUT_EXECUTIVE = {k: v for k, v in PLAN.items() if not k.startswith("f-exec_")}
EXECUTIVE_MISSING = "Call plan (still needed: the executive's role (what to say or ask))"


@pytest.fixture
def lone_call(acme, make_call):
    """A call in three days that no executive joins (yet)."""
    return make_call(
        acme,
        title="Discovery at Acme",
        purpose="Agree the scope of a finance pilot.",
        agenda="Introductions\nTheir priorities\nNext steps",
        agreed_outcome="A date for the pilot workshop.",
    )


@pytest.fixture
def complete(lone_call, alice):
    """Every required section complete; the call plan says nothing about an executive."""
    brief = services.start_brief(lone_call, by=alice, collect_evidence=False)
    fill(brief, alice)
    plan = S.clean_fields(S.spec_for("call_plan"), PLAN_WITHOUT_EXECUTIVE)
    write(brief, "call_plan", by=alice, fields=plan)
    return Brief.objects.get(pk=brief.pk)


def stored_states(brief) -> dict[str, str]:
    return dict(BriefSection.objects.filter(brief=brief).values_list("key", "state"))


def rule_states(brief) -> dict[str, str]:
    """The completeness rule on each section against the call as it is now."""
    brief = Brief.objects.select_related("call").get(pk=brief.pk)
    states = {}
    for section in BriefSection.objects.filter(brief=brief):
        section.brief = brief
        states[section.key] = section.evaluation().state
    return states


def submit_refusal(brief, rep) -> str:
    """What submit says now: "" when it accepts the brief (the submission is rolled back)."""
    try:
        with transaction.atomic():
            workflow.submit_brief(Brief.objects.get(pk=brief.pk), by=rep)
            transaction.set_rollback(True)
    except WorkflowError as refusal:
        return refusal.message
    assert Brief.objects.get(pk=brief.pk).status == BriefStatus.DRAFT
    return ""


def number(pattern: str, text: str) -> int:
    found = re.findall(pattern, text)
    assert len(found) == 1, (pattern, found)
    return int(found[0])


def shown_percents(client, brief, *, rep, manager) -> dict[str, int]:
    """The completeness every screen shows for the brief, in percent."""
    call = brief.call
    editor = page(client, rep, reverse("briefs:edit", args=[brief.pk]))
    detail = page(client, rep, reverse("briefs:detail", args=[brief.pk]))
    of_total = r"(\d+) of \d+ required sections complete"
    assert number(of_total, editor) == number(of_total, detail)
    drill = drill_rows(client, manager)[call.pk]
    return {
        "My calls": number(
            r'brief-completeness-cell">(\d+)%', page(client, rep, reverse("callprep:my_calls"))
        ),
        "call page": number(r"(\d+)% complete\)", page(client, rep, call.get_absolute_url())),
        "editor": number(r'data-testid="completeness">(\d+)%', editor),
        "brief page": number(r'data-testid="completeness">(\d+)%', detail),
        "dashboard": number(
            r'data-testid="completeness">(\d+)%',
            page(client, manager, reverse("callprep:dashboard"), **period()),
        ),
        "drill-down": number(r'<td class="num">(\d+)%</td>', drill),
    }


def assert_agree(client, brief, *, rep, manager, complete: bool) -> None:
    """Every view of completeness at one step, against the rule and the hand-worked answer."""
    states = stored_states(brief)
    assert states == rule_states(brief)  # the stored state is the rule's, before any submit
    expected_plan = S.SectionState.COMPLETE if complete else S.SectionState.IN_PROGRESS
    assert states["call_plan"] == expected_plan
    required = dict(BriefSection.objects.filter(brief=brief).values_list("key", "required"))
    done = sum(1 for k, s in states.items() if required[k] and s == S.SectionState.COMPLETE)
    assert done == (REQUIRED if complete else REQUIRED - 1)
    fact = CallFact.objects.get(call=brief.call_id)
    assert (fact.sections_complete, fact.sections_required) == (done, REQUIRED)

    expected = percent(done, REQUIRED)
    assert expected == (100 if complete else round(100 * (REQUIRED - 1) / REQUIRED))
    brief = Brief.objects.select_related("call").get(pk=brief.pk)
    assert brief.completeness_percent == expected
    shown = shown_percents(client, brief, rep=rep, manager=manager)
    assert shown == dict.fromkeys(shown, expected)

    refusal = submit_refusal(brief, rep)
    if complete:
        assert refusal == ""
    else:
        assert EXECUTIVE_MISSING in refusal


def test_an_executive_joining_and_leaving_a_complete_brief_s_call(
    complete, client, alice, victor, mallory
):
    call = complete.call
    assert_agree(client, complete, rep=alice, manager=mallory, complete=True)

    # An executive joins (the service behind the call edit page).
    call = edit_call(call, by=alice, executive=victor.pk)
    assert call.executive == victor
    assert_agree(client, complete, rep=alice, manager=mallory, complete=False)

    # The executive leaves (the call edit page).
    call = edit_call(call, by=alice, client=client, executive="")
    assert call.executive is None
    assert_agree(client, complete, rep=alice, manager=mallory, complete=True)

    # Joins again (the page), and the rep writes the executive's role: complete, submitted.
    call = edit_call(call, by=alice, client=client, executive=victor.pk)
    assert_agree(client, complete, rep=alice, manager=mallory, complete=False)
    write(complete, "call_plan", by=alice, fields=S.clean_fields(S.spec_for("call_plan"), PLAN))
    assert_agree(client, complete, rep=alice, manager=mallory, complete=True)
    workflow.submit_brief(Brief.objects.get(pk=complete.pk), by=alice)
    assert Brief.objects.get(pk=complete.pk).status == BriefStatus.SUBMITTED


def test_submit_through_the_page_refuses_what_every_screen_shows_as_incomplete(
    complete, client, alice, victor
):
    edit_call(complete.call, by=alice, client=client, executive=victor.pk)

    client.force_login(alice)
    response = client.post(reverse("briefs:submit", args=[complete.pk]), follow=True)

    assert EXECUTIVE_MISSING in response.content.decode().replace("&#x27;", "'")
    assert Brief.objects.get(pk=complete.pk).status == BriefStatus.DRAFT
    assert stored_states(complete)["call_plan"] == S.SectionState.IN_PROGRESS

"""Completeness rules: each section's state, the brief's score and the deal's red flags."""

from __future__ import annotations

import pytest

from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.models import Brief, calls_with_brief
from callprep.models import Call

from .fixtures import LONG_CHALLENGES, section_of

PROSE = S.spec_for("business_challenges")
DEAL = S.spec_for("deal_check")
PLAN = S.spec_for("call_plan")


def words(n: int) -> str:
    return " ".join(["their"] * n)


def claim(text: str, confidence: str = "customer_said") -> dict:
    return {"text": text, "confidence": confidence, "evidence": "Dana, 12 May"}


def test_a_prose_section_is_empty_in_progress_or_complete_by_its_word_minimum():
    assert S.evaluate(PROSE, "", {}, has_executive=False).state == "empty"
    assert S.evaluate(PROSE, words(10), {}, has_executive=False).state == "in_progress"
    assert S.evaluate(PROSE, words(PROSE.min_words), {}, has_executive=False).state == "complete"


def test_an_incomplete_section_says_what_is_missing():
    evaluation = S.evaluate(PROSE, words(10), {}, has_executive=False)

    assert evaluation.hint == "Still needed: 50 more words (at least 60)."


def test_the_deal_check_needs_each_required_point_with_a_confidence():
    fields = {key: claim("Known.") for key in DEAL.required_fields}
    assert S.evaluate(DEAL, "", fields, has_executive=False).state == "complete"

    fields["champion"] = {"text": "Chris", "confidence": "", "evidence": ""}
    evaluation = S.evaluate(DEAL, "", fields, has_executive=False)

    assert evaluation.state == "in_progress"
    assert evaluation.missing == ("champion with a confidence",)


def test_the_call_plan_needs_the_executives_role_only_when_an_executive_joins():
    fields = {
        "objectives": "Agree the pilot.",
        "agreed_outcome": "A workshop date.",
        "agenda": ["Intro", "Pilot"],
        "questions": ["Who signs?"],
    }
    assert S.evaluate(PLAN, "", fields, has_executive=False).state == "complete"
    assert S.evaluate(PLAN, "", fields, has_executive=True).state == "in_progress"

    fields["exec_ask"] = "What would success look like for the board?"
    assert S.evaluate(PLAN, "", fields, has_executive=True).state == "complete"


def test_red_flags_follow_from_the_deal_check_fields():
    assert S.red_flags({}) == [
        "No pain identified",
        "Economic buyer not identified",
        "Economic buyer never met",
        "No champion",
        "No compelling event",
        "Decision process unknown",
    ]
    fields = {
        "pain": claim("Slow close.", "our_inference"),
        "economic_buyer": claim("Dana Buyer"),
        "economic_buyer_met": True,
        "champion": claim("Chris"),
        "compelling_event": claim("Board deadline in September"),
        "decision_process": claim("RFP then pilot"),
    }
    assert S.red_flags(fields) == ["Pain not confirmed by the customer"]


def test_the_brief_score_is_the_share_of_required_sections_complete(brief, alice):
    required = [s for s in S.SECTIONS if s.required]
    assert brief.completeness() == 0.0

    challenges = section_of(brief, "business_challenges")
    services.save_section(challenges, text=LONG_CHALLENGES, base_version=1, by=alice)
    optional = section_of(brief, "economic_drivers")
    services.save_section(optional, text=words(60), base_version=1, by=alice)

    brief = Brief.objects.get(pk=brief.pk)
    assert brief.completeness() == pytest.approx(1 / len(required))
    assert brief.completeness_percent == round(100 / len(required))


def test_the_completeness_annotation_agrees_with_the_model_method(brief, alice, call):
    challenges = section_of(brief, "business_challenges")
    services.save_section(challenges, text=LONG_CHALLENGES, base_version=1, by=alice)

    annotated = Brief.objects.with_completeness().get(pk=brief.pk)
    plain = Brief.objects.get(pk=brief.pk)
    assert annotated.completeness_counts() == plain.completeness_counts() == (1, 7)

    row = calls_with_brief(Call.objects.filter(pk=call.pk)).get()
    assert (row.brief_required_complete, row.brief_required_total) == (1, 7)
    assert row.brief_completeness_percent == 14
    assert row.brief == brief


def test_a_call_without_a_brief_has_no_completeness(call):
    row = calls_with_brief(Call.objects.filter(pk=call.pk)).get()

    assert (row.brief_required_complete, row.brief_required_total) == (0, 0)
    assert row.brief_completeness_percent == 0

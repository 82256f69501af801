"""Review fixtures. The story of tests/briefs: alice (rep, East) owns Acme and a call in three
days that victor (executive) joins; bob (East) and mallory (manages East) read it; charlie
(West) and walter (West) are outsiders; ada is an admin. ``complete_brief`` has every required
section complete, ready to submit.
"""

from __future__ import annotations

import pytest

from callprep.briefs import services
from callprep.briefs.models import BriefSection
from salesprep.celery import app as celery_app
from tests.accounts.conftest import acme, dana, east, make_call, westwind  # noqa: F401
from tests.briefs.fixtures import LONG_CHALLENGES, brief, call  # noqa: F401

WORDS = " ".join(["Their market consolidates while input costs rise across the sector."] * 8)

DEAL = {
    "f-pain": "Order-to-cash takes 41 days.",
    "f-pain-confidence": "customer_said",
    "f-pain-evidence": "Dana Buyer, 12 May",
    "f-metrics": "Days sales outstanding.",
    "f-metrics-confidence": "customer_said",
    "f-economic_buyer": "Dana Buyer (CFO)",
    "f-economic_buyer-confidence": "public_source",
    "f-decision_process": "RFP, pilot, board.",
    "f-decision_process-confidence": "our_inference",
    "f-champion": "Chris Champion",
    "f-champion-confidence": "customer_said",
    "f-compelling_event": "Board plan due in September.",
    "f-compelling_event-confidence": "customer_said",
}
PLAN = {
    "f-objectives": "Agree the scope of a finance pilot.",
    "f-agreed_outcome": "A date for the pilot workshop.",
    "f-agenda": "Introductions\nTheir priorities\nNext steps",
    "f-questions": "What happens if DSO stays at 41?\nWho signs above $250k?",
    "f-exec_say": "We have done this for three peers.",
    "f-exec_ask": "What would the board call success?",
    "f-exec_avoid": "Pricing.",
    "f-landmines": "The last vendor's failed ERP project.",
}


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run in-process: e-mail goes to Django's test outbox, no worker needed."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def section(of, key: str) -> BriefSection:
    return BriefSection.objects.select_related("brief__call").get(brief=of, key=key)


def write(of, key: str, text: str = "", *, by, fields=None, confirm_reopen=False) -> BriefSection:
    s = section(of, key)
    services.save_section(
        s, text=text, fields=fields, base_version=s.version, by=by, confirm_reopen=confirm_reopen
    )
    return s


def fill(of, by) -> None:
    """Complete every required section of the brief ``of``."""
    from callprep.briefs import sections as S

    write(of, "business_challenges", LONG_CHALLENGES, by=by)
    write(of, "industry_dynamics", WORDS, by=by)
    write(
        of,
        "financial_condition",
        WORDS + " Revenue grew 4 % {source: https://www.sec.gov/acme-10k}",
        by=by,
    )
    write(of, "buying_process", WORDS, by=by)
    write(of, "value_hypothesis", WORDS, by=by)
    write(of, "deal_check", by=by, fields=S.clean_fields(S.spec_for("deal_check"), DEAL))
    write(of, "call_plan", by=by, fields=S.clean_fields(S.spec_for("call_plan"), PLAN))


@pytest.fixture
def complete_brief(brief, alice):  # noqa: F811
    fill(brief, alice)
    brief.refresh_from_db()
    return brief


YES = {
    key: {"answer": "yes", "note": ""}
    for key in (
        "economic_buyer_met",
        "compelling_event",
        "pain_confirmed",
        "paper_process",
        "executive_role",
    )
}


@pytest.fixture
def submitted(complete_brief, alice):
    from callprep import workflow

    workflow.submit_brief(complete_brief, by=alice)
    return complete_brief


@pytest.fixture
def approved(submitted, victor):
    from callprep import workflow

    workflow.approve_brief(submitted, by=victor, answers=YES)
    return submitted


@pytest.fixture
def vera(make_user):
    """Another executive, not the one joining the call."""
    return make_user("vera", "Executive")

"""Brief fixtures, imported by conftest.py.

alice (rep, East) owns Acme and a call with Acme that victor (executive) joins. bob (East) and
mallory (manages East) read it; charlie (West) and walter (manages West) are outsiders; ada
(admin) may do anything.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from accounts.models import BuyingProcess, BuyingRole, Contact, Influence, Stance
from callprep.briefs import services
from callprep.briefs.models import BriefSection

LONG_CHALLENGES = (
    "Acme wants to cut order-to-cash time from 41 to 20 days this fiscal year. Their CFO Dana "
    "Buyer told us their working capital is tied up in disputes and that their board asked for "
    "a plan by September. They run three ERPs after two acquisitions, and their finance team "
    "closes the books in 12 days. Their priority list for 2025 names cash, margin and a single "
    "customer master; their annual report repeats it. They fear losing 3 % of revenue to "
    "billing errors. {said: Dana Buyer, 12 May}"
)


@pytest.fixture
def call(acme, make_call, victor, dana):
    return make_call(
        acme,
        executive=victor,
        title="Executive visit at Acme",
        purpose="Agree the scope of a finance pilot.",
        agenda="Introductions\nTheir priorities\nNext steps",
        agreed_outcome="A date for the pilot workshop.",
    )


@pytest.fixture
def buying_process(acme):
    return BuyingProcess.objects.create(
        account=acme,
        procurement_steps="RFP, shortlist, pilot, contract.",
        approval_thresholds="Over $250k needs the CFO.",
    )


@pytest.fixture
def champion(acme, dana):
    return Contact.objects.create(
        account=acme,
        name="Chris Champion",
        title="Head of Finance Ops",
        buying_role=BuyingRole.CHAMPION,
        influence=Influence.HIGH,
        stance=Stance.SUPPORTER,
        reports_to=dana,
        cares_about="Fewer manual reconciliations.",
    )


@pytest.fixture
def brief(call, alice):
    return services.start_brief(call, by=alice)


def section_of(brief, key: str) -> BriefSection:
    return BriefSection.objects.select_related("brief__call").get(brief=brief, key=key)


@pytest.fixture
def challenges(brief):
    return section_of(brief, "business_challenges")


class _TagAudit(HTMLParser):
    """Collects what a browser would actually act on: real tags and attributes."""

    FORBIDDEN_TAGS = {"script", "img", "svg", "iframe", "object", "embed", "style", "math"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name in {"href", "src", "action", "formaction"}:
                url = "".join((value or "").split()).lower()
                if url.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"{tag}[{name}={value}]")


def hostile_markup(html: str, *, allow_scripts_from: tuple[str, ...] = ()) -> list[str]:
    """Tags or attributes in ``html`` that could run script; [] when the page is inert.

    ``allow_scripts_from`` lists the page's own script files (e.g. "/static/js/"), which are
    excluded by stripping their tags before the audit.
    """
    for prefix in allow_scripts_from:
        html = re.sub(
            rf'<script src="{re.escape(prefix)}[^"]*"[^>]*></script>', "", html, flags=re.I
        )
    audit = _TagAudit()
    audit.feed(html)
    return audit.problems

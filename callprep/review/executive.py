"""The executive view, the brief for the ride in: one page, built here so the template only
lays it out. Every claim keeps its source or confidence. Evidence (financials, indicators,
filings) is used when collected; with none, the page still reads from the brief alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.models import BuyingRole
from callprep.briefs import sections as S
from callprep.briefs.models import Brief, BriefSection
from callprep.briefs.panels import field_rows
from callprep.briefs.rendering import blocks, render_markdown, render_plain, safe_http_url

MAX_WHY = 3
MAX_FACTS = 3
MAX_PEOPLE = 8
MAX_FINANCIALS = 4
MAX_DRIVERS = 3
FINANCIAL_ORDER = ("revenue", "net_income", "operating_income", "cash", "long_term_debt")


@dataclass
class Fact:
    html: str
    source: str = ""
    url: str = ""
    period: str = ""


@dataclass
class Figure:
    label: str
    value: str
    sparkline: Any = ""
    source: str = ""
    period: str = ""
    url: str = ""
    change: str = ""


@dataclass
class Person:
    name: str
    title: str
    role: str
    stance: str
    influence: str
    cares_about: str
    stance_key: str = ""


@dataclass
class ExecutiveBrief:
    why: list[str] = field(default_factory=list)  # safe HTML blocks, claim badges included
    purpose: str = ""
    facts: list[Fact] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    people_are_attendees: bool = True
    financials: list[Figure] = field(default_factory=list)
    financial_note: str = ""  # safe HTML: the rep's first paragraph on financials
    drivers: list[Figure] = field(default_factory=list)
    drivers_note: str = ""
    deal: list[Any] = field(default_factory=list)  # FieldRow of the deal check's claims
    economic_buyer_met: bool = False
    red_flags: list[str] = field(default_factory=list)
    say: str = ""
    ask: str = ""
    avoid: str = ""
    questions: list[str] = field(default_factory=list)
    landmines: str = ""
    objectives: str = ""
    agreed_outcome: str = ""
    agenda: list[str] = field(default_factory=list)


def _blocks_with(text: str, mark: str) -> list[str]:
    return [b for b in blocks(text or "") if b.strip() and mark in b.lower()]


def _first_blocks(text: str, n: int) -> list[str]:
    return [b for b in blocks(text or "") if b.strip() and not b.lstrip().startswith("#")][:n]


def _html(block: str) -> str:
    return render_markdown(block).html


def build(brief: Brief, sections: list[BriefSection] | None = None) -> ExecutiveBrief:
    sections = sections if sections is not None else list(brief.sections.all())
    by_key = {s.key: s for s in sections}
    out = ExecutiveBrief()

    def text(key: str) -> str:
        return by_key[key].text if key in by_key else ""

    def fields(key: str) -> dict:
        return (by_key[key].fields or {}) if key in by_key else {}

    # Why we are going, in the customer's words: what they said, else what we wrote.
    challenges = text(S.SectionKey.BUSINESS_CHALLENGES)
    said = _blocks_with(challenges, "{said")
    out.why = [_html(b) for b in (said or _first_blocks(challenges, 2))[:MAX_WHY]]
    plan = fields(S.SectionKey.CALL_PLAN)
    out.purpose = str(plan.get("objectives", "") or brief.call.purpose or "")

    # Three facts about their business now, with sources: sourced claims first, then evidence.
    for key in (
        S.SectionKey.FINANCIAL_CONDITION,
        S.SectionKey.BUSINESS_CHALLENGES,
        S.SectionKey.INDUSTRY_DYNAMICS,
        S.SectionKey.ECONOMIC_DRIVERS,
    ):
        for block in _blocks_with(text(key), "{source"):
            if len(out.facts) < MAX_FACTS:
                out.facts.append(Fact(html=_html(block), source="The brief, with its source"))
    evidence = _evidence(brief)
    for fact in evidence["facts"]:
        if len(out.facts) >= MAX_FACTS:
            break
        out.facts.append(fact)

    # Who is in the room.
    contacts = list(brief.call.contacts.all())
    if not contacts:
        out.people_are_attendees = False
        contacts = [
            c
            for c in brief.account.contacts.all()
            if c.buying_role != BuyingRole.UNKNOWN or c.cares_about.strip()
        ]
    for contact in contacts[:MAX_PEOPLE]:
        out.people.append(
            Person(
                name=contact.name,
                title=contact.title,
                role=contact.get_buying_role_display(),
                stance=contact.get_stance_display(),
                stance_key=contact.stance,
                influence=contact.get_influence_display(),
                cares_about=contact.cares_about.strip(),
            )
        )

    # Financial snapshot and economic drivers: collected figures with sparklines.
    out.financials = evidence["financials"]
    out.drivers = evidence["drivers"]
    first = _first_blocks(text(S.SectionKey.FINANCIAL_CONDITION), 1)
    out.financial_note = _html(first[0]) if first else ""
    first = _first_blocks(text(S.SectionKey.ECONOMIC_DRIVERS), 1)
    out.drivers_note = _html(first[0]) if first else ""

    # Deal reality and red flags.
    deal_spec = S.spec_for(S.SectionKey.DEAL_CHECK)
    deal_fields = fields(S.SectionKey.DEAL_CHECK)
    out.deal = [r for r in field_rows(deal_spec, deal_fields) if r.kind == "claim" and r.value]
    out.economic_buyer_met = bool(deal_fields.get("economic_buyer_met"))
    out.red_flags = S.red_flags(deal_fields)

    # The executive's role, the questions, the landmines, and the agreed outcome.
    out.say = str(plan.get("exec_say", "") or "")
    out.ask = str(plan.get("exec_ask", "") or "")
    out.avoid = str(plan.get("exec_avoid", "") or "")
    out.landmines = str(plan.get("landmines", "") or "")
    out.questions = S.lines_of(plan.get("questions"))
    out.agenda = S.lines_of(plan.get("agenda"))
    out.objectives = out.purpose
    out.agreed_outcome = str(plan.get("agreed_outcome", "") or brief.call.agreed_outcome or "")
    return out


def _evidence(brief: Brief) -> dict[str, list]:
    """Figures and facts from collected evidence; empty lists when there is none (or the
    evidence module is unavailable), so the page degrades to the brief alone."""
    empty: dict[str, list] = {"facts": [], "financials": [], "drivers": []}
    try:
        from callprep.evidence.context import lines_for
        from callprep.evidence.models import Evidence, EvidenceKind
    except ImportError:  # pragma: no cover - evidence collection not installed
        return empty
    rows = list(Evidence.objects.filter(account=brief.account_id))
    if not rows:
        return empty
    financial = [r for r in rows if r.kind == EvidenceKind.FINANCIAL]
    indicators = [r for r in rows if r.kind == EvidenceKind.INDICATOR]
    lines = lines_for(
        sorted(financial, key=lambda r: (r.metric, r.period_end is None, r.period_end))
    )
    order = {m: i for i, m in enumerate(FINANCIAL_ORDER)}
    lines.sort(key=lambda line: order.get(line.evidence.metric, 99))
    figures = [_figure(line) for line in lines if line.evidence.value is not None][:MAX_FINANCIALS]
    series = lines_for(
        sorted(indicators, key=lambda r: (r.series, r.period_end is None, r.period_end))
    )
    drivers = [_figure(line) for line in series if line.evidence.value is not None][:MAX_DRIVERS]
    facts = []
    for row in sorted(
        (r for r in rows if r.kind in (EvidenceKind.FILING, EvidenceKind.NEWS, EvidenceKind.WEB)),
        key=lambda r: (r.period_end is not None, r.period_end),
        reverse=True,
    ):
        facts.append(
            Fact(
                html=render_plain(row.label),
                source=row.source_name,
                url=safe_http_url(row.url),
                period=row.period_text,
            )
        )
    if figures:
        top = figures[0]
        facts.insert(
            0,
            Fact(
                html=render_plain(f"{top.label}: {top.value}"),
                source=top.source,
                url=top.url,
                period=top.period,
            ),
        )
    return {"facts": facts, "financials": figures, "drivers": drivers}


def _figure(line) -> Figure:
    e = line.evidence
    return Figure(
        label=e.label,
        value=e.value_text,
        sparkline=line.sparkline,
        source=e.source_name,
        period=e.period_text,
        url=safe_http_url(e.url),
        change=line.change_text,
    )

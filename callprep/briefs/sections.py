"""The sections of a pre-call brief, as data: titles, guidance, required flags and the rules
that decide whether a section is empty, in progress or complete.

Everything a section "is" lives here, so the editor, the read view, the completeness score and
the tests all agree. Changing a rule is a change to this table, not to views or templates.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models


class SectionKey(models.TextChoices):
    BUSINESS_CHALLENGES = "business_challenges", "Business challenges and priorities"
    INDUSTRY_DYNAMICS = "industry_dynamics", "Industry dynamics"
    FINANCIAL_CONDITION = "financial_condition", "Financial condition"
    ECONOMIC_DRIVERS = "economic_drivers", "Economic drivers"
    BUYING_PROCESS = "buying_process", "Their buying process"
    VALUE_HYPOTHESIS = "value_hypothesis", "Value hypothesis"
    DEAL_CHECK = "deal_check", "Deal reality check"
    CALL_PLAN = "call_plan", "Call plan"


class SectionState(models.TextChoices):
    EMPTY = "empty", "Empty"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETE = "complete", "Complete"


class Confidence(models.TextChoices):
    """How we know a claim: the three marks an executive reads before trusting a sentence."""

    CUSTOMER_SAID = "customer_said", "Customer said"
    PUBLIC_SOURCE = "public_source", "Public source"
    OUR_INFERENCE = "our_inference", "Our inference"


class SectionKind(models.TextChoices):
    PROSE = "prose", "Prose"
    DEAL_CHECK = "deal_check", "Deal reality check"
    CALL_PLAN = "call_plan", "Call plan"


@dataclass(frozen=True)
class FieldSpec:
    """One structured field of a section."""

    key: str
    label: str
    help: str = ""
    # "claim": text + confidence + evidence (who/when, or a link); "text": a paragraph;
    # "lines": one item per line, in order; "flag": yes/no.
    kind: str = "text"
    max_length: int = 5_000


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    guidance: tuple[str, ...]
    required: bool
    kind: str = SectionKind.PROSE
    min_words: int = 0
    # Structured fields that must be filled for the section to be complete. A "claim" field
    # counts as filled only with its text *and* a confidence.
    required_fields: tuple[str, ...] = ()
    # At least one of these must be filled when the call has an executive joining.
    executive_fields: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    # Customer sections carry forward to the account's next brief; the call plan does not.
    carries_forward: bool = True
    notes_label: str = "Text"

    @property
    def label(self) -> str:
        return self.title

    def field(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(key)


MAX_SECTION_CHARS = 100_000

DEAL_CHECK_FIELDS = (
    FieldSpec("pain", "Pain", "The business problem, in their words. Who confirmed it?", "claim"),
    FieldSpec(
        "metrics", "Metrics", "How they measure the pain and the value of solving it.", "claim"
    ),
    FieldSpec(
        "economic_buyer",
        "Economic buyer",
        "Who can say yes to the money? Name and title.",
        "claim",
    ),
    FieldSpec("economic_buyer_met", "We have met the economic buyer", "", "flag"),
    FieldSpec("decision_criteria", "Decision criteria", "What they will judge us on.", "claim"),
    FieldSpec(
        "decision_process", "Decision process", "Steps, people and dates to a decision.", "claim"
    ),
    FieldSpec(
        "paper_process", "Paper process", "Legal, security, procurement, signatures.", "claim"
    ),
    FieldSpec("champion", "Champion", "Who sells for us when we are not in the room?", "claim"),
    FieldSpec("competition", "Competition", "Who else, including doing nothing.", "claim"),
    FieldSpec(
        "compelling_event",
        "Compelling event",
        "What happens to them if nothing changes by a date?",
        "claim",
    ),
    FieldSpec("risks", "Risks", "What could kill or delay the deal.", "claim"),
)

CALL_PLAN_FIELDS = (
    FieldSpec("objectives", "Objectives", "What we want to learn or agree on this call.", "text"),
    FieldSpec("agreed_outcome", "Agreed outcome", "What both sides expect at the end.", "text"),
    FieldSpec("agenda", "Agenda", "One item per line, in order.", "lines"),
    FieldSpec("questions", "Questions to ask", "One question per line.", "lines"),
    FieldSpec(
        "exec_say", "Executive: what to say", "The one or two points only they can make.", "text"
    ),
    FieldSpec(
        "exec_ask",
        "Executive: what to ask",
        "Questions that land better from an executive.",
        "text",
    ),
    FieldSpec(
        "exec_avoid",
        "Executive: what to avoid",
        "Topics, promises, names to stay away from.",
        "text",
    ),
    FieldSpec("landmines", "Landmines", "History, politics or sore points in the room.", "text"),
)

SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        SectionKey.BUSINESS_CHALLENGES,
        "Business challenges and priorities",
        (
            "What keeps their leaders up at night, in the customer's own words?",
            "Which priorities did they state publicly (annual report, earnings call)?",
            "Who told us, and when? Mark each claim.",
        ),
        required=True,
        min_words=60,
    ),
    SectionSpec(
        SectionKey.INDUSTRY_DYNAMICS,
        "Industry dynamics",
        (
            "Which trends, competitors, regulation or disruption shape their market?",
            "How are their peers responding, and where does the customer stand?",
        ),
        required=True,
        min_words=50,
    ),
    SectionSpec(
        SectionKey.FINANCIAL_CONDITION,
        "Financial condition",
        (
            "Revenue trend, margins, cash and debt: are they investing or cutting?",
            "Recent filings and events (10-K, 10-Q, 8-K, results, guidance).",
        ),
        required=True,
        min_words=50,
    ),
    SectionSpec(
        SectionKey.ECONOMIC_DRIVERS,
        "Economic drivers",
        (
            "Which macro indicators move their priorities (rates, inflation, demand, prices)?",
            "How is their country's economy doing, and what does that mean for them?",
        ),
        required=False,
        min_words=40,
    ),
    SectionSpec(
        SectionKey.BUYING_PROCESS,
        "Their buying process",
        (
            "Who is on the buying committee, with which role, influence and stance?",
            "Their decision criteria, steps, timeline and budget status.",
            "Pre-filled from the account's buying process and stakeholders; edit freely.",
        ),
        required=True,
        min_words=40,
    ),
    SectionSpec(
        SectionKey.VALUE_HYPOTHESIS,
        "Value hypothesis",
        (
            "How do we help *their* priorities? Tie each point to a challenge above.",
            "What would they measure, and what is it worth to them? Not a feature list.",
        ),
        required=True,
        min_words=50,
    ),
    SectionSpec(
        SectionKey.DEAL_CHECK,
        "Deal reality check",
        (
            "Is the deal real? Answer each MEDDPICC point and say how you know it.",
            "Customer said it, a public source shows it, or it is our inference.",
        ),
        required=True,
        kind=SectionKind.DEAL_CHECK,
        required_fields=(
            "pain",
            "metrics",
            "economic_buyer",
            "decision_process",
            "champion",
            "compelling_event",
        ),
        fields=DEAL_CHECK_FIELDS,
        notes_label="Notes",
    ),
    SectionSpec(
        SectionKey.CALL_PLAN,
        "Call plan",
        (
            "What must be true at the end of this call? Agree the outcome up front.",
            "An ordered agenda, the questions to ask, and the executive's role.",
        ),
        required=True,
        kind=SectionKind.CALL_PLAN,
        required_fields=("objectives", "agreed_outcome", "agenda", "questions"),
        executive_fields=("exec_say", "exec_ask"),
        fields=CALL_PLAN_FIELDS,
        carries_forward=False,
        notes_label="Notes",
    ),
)

SPECS: dict[str, SectionSpec] = {spec.key: spec for spec in SECTIONS}


def spec_for(key: str) -> SectionSpec:
    return SPECS[key]


# --- Completeness -------------------------------------------------------------------------

WORD = re.compile(r"[^\W_]+(?:['\u2019.-][^\W_]+)*", re.UNICODE)


def count_words(text: str) -> int:
    """Words in a text, counted per paragraph with a cache (long sections autosave often)."""
    return sum(_paragraph_words(chunk) for chunk in (text or "").split("\n\n"))


@functools.lru_cache(maxsize=8192)
def _paragraph_words(text: str) -> int:
    return sum(1 for _ in WORD.finditer(text))


def field_filled(spec: FieldSpec, value: Any) -> bool:
    if spec.kind == "flag":
        return bool(value)
    if spec.kind == "claim":
        value = value if isinstance(value, Mapping) else {}
        return bool(str(value.get("text", "")).strip()) and value.get("confidence") in set(
            Confidence.values
        )
    if spec.kind == "lines":
        return bool(lines_of(value))
    return bool(str(value or "").strip())


def field_started(spec: FieldSpec, value: Any) -> bool:
    if spec.kind == "claim":
        value = value if isinstance(value, Mapping) else {}
        return bool(str(value.get("text", "")).strip() or str(value.get("evidence", "")).strip())
    return field_filled(spec, value)


def lines_of(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else str(value or "").splitlines()
    return [str(item).strip() for item in items if str(item).strip()]


@dataclass(frozen=True)
class Evaluation:
    state: str
    words: int
    missing: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hint(self) -> str:
        if self.state == SectionState.COMPLETE:
            return "Complete."
        return "Still needed: " + "; ".join(self.missing) + "." if self.missing else ""


def evaluate(
    spec: SectionSpec, text: str, fields: Mapping[str, Any] | None, *, has_executive: bool
) -> Evaluation:
    """Decide a section's state from its text and structured fields."""
    fields = fields or {}
    words = count_words(text)
    for fspec in spec.fields:
        value = fields.get(fspec.key)
        if fspec.kind == "claim" and isinstance(value, Mapping):
            words += count_words(str(value.get("text", "")))
        elif fspec.kind in {"text", "lines"}:
            words += count_words("\n".join(lines_of(value)))
    missing: list[str] = []
    if words < spec.min_words:
        missing.append(f"{spec.min_words - words} more words (at least {spec.min_words})")
    for key in spec.required_fields:
        fspec = spec.field(key)
        if not field_filled(fspec, fields.get(key)):
            suffix = " with a confidence" if fspec.kind == "claim" else ""
            missing.append(f"{fspec.label.lower()}{suffix}")
    executive_role = any(field_filled(spec.field(k), fields.get(k)) for k in spec.executive_fields)
    if has_executive and spec.executive_fields and not executive_role:
        missing.append("the executive's role (what to say or ask)")
    started = words > 0 or any(field_started(f, fields.get(f.key)) for f in spec.fields)
    if not missing:
        state = SectionState.COMPLETE
    elif started:
        state = SectionState.IN_PROGRESS
    else:
        state = SectionState.EMPTY
    return Evaluation(state=state, words=words, missing=tuple(missing))


# --- Deal reality check: red flags follow from the fields ---------------------------------


def red_flags(fields: Mapping[str, Any] | None) -> list[str]:
    """The warnings a deal check raises, in the order an executive would worry about them."""
    fields = fields or {}
    spec = spec_for(SectionKey.DEAL_CHECK)

    def text(key: str) -> str:
        value = fields.get(key)
        return str(value.get("text", "")).strip() if isinstance(value, Mapping) else ""

    def confidence(key: str) -> str:
        value = fields.get(key)
        return value.get("confidence", "") if isinstance(value, Mapping) else ""

    flags: list[str] = []
    if not text("pain"):
        flags.append("No pain identified")
    elif confidence("pain") != Confidence.CUSTOMER_SAID:
        flags.append("Pain not confirmed by the customer")
    if not text("economic_buyer"):
        flags.append("Economic buyer not identified")
    if not field_filled(spec.field("economic_buyer_met"), fields.get("economic_buyer_met")):
        flags.append("Economic buyer never met")
    if not text("champion"):
        flags.append("No champion")
    if not text("compelling_event"):
        flags.append("No compelling event")
    if not text("decision_process"):
        flags.append("Decision process unknown")
    return flags


def clean_fields(spec: SectionSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Structured fields from a form (``f-<key>``, ``f-<key>-confidence`` …) or a dict."""
    out: dict[str, Any] = {}
    for fspec in spec.fields:
        name = f"f-{fspec.key}"
        if fspec.kind == "claim":
            confidence = str(data.get(f"{name}-confidence", "") or "")
            out[fspec.key] = {
                "text": str(data.get(name, "") or "").strip(),
                "confidence": confidence if confidence in Confidence.values else "",
                "evidence": str(data.get(f"{name}-evidence", "") or "").strip(),
            }
        elif fspec.kind == "flag":
            out[fspec.key] = str(data.get(name, "")).lower() in {"1", "on", "true", "yes"}
        elif fspec.kind == "lines":
            out[fspec.key] = lines_of(data.get(name, ""))
        else:
            out[fspec.key] = str(data.get(name, "") or "").strip()
    return out


def fields_as_text(spec: SectionSpec, fields: Mapping[str, Any] | None) -> str:
    """A plain-text rendering of the structured fields, for diffs and the focus meter."""
    fields = fields or {}
    lines: list[str] = []
    for fspec in spec.fields:
        value = fields.get(fspec.key)
        if fspec.kind == "claim":
            value = value if isinstance(value, Mapping) else {}
            label = Confidence(value["confidence"]).label if value.get("confidence") else ""
            extra = ", ".join(p for p in (label, value.get("evidence", "")) if p)
            lines.append(
                f"{fspec.label}: {value.get('text', '')}" + (f" ({extra})" if extra else "")
            )
        elif fspec.kind == "flag":
            lines.append(f"{fspec.label}: {'yes' if value else 'no'}")
        elif fspec.kind == "lines":
            lines.append(f"{fspec.label}:")
            lines.extend(f"{n}. {item}" for n, item in enumerate(lines_of(value), 1))
        else:
            lines.append(f"{fspec.label}: {value or ''}")
    return "\n".join(lines)


def fields_length(fields: Mapping[str, Any] | None) -> int:
    total = 0
    for value in (fields or {}).values():
        if isinstance(value, Mapping):
            total += sum(len(str(v)) for v in value.values())
        elif isinstance(value, list | tuple):
            total += sum(len(str(v)) for v in value)
        elif isinstance(value, str):
            total += len(value)
    return total

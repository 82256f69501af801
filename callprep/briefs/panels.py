"""What the editor shows for one section: values, structured field rows, hints, meters.

Built in Python so templates only lay things out. The one-section page, the merge card of a
refused save and the no-JavaScript way evidence enters a section live here too, because the
brief's views and the evidence views both answer with them (no view module imports another).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.params import id_from
from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.access import section_for
from callprep.briefs.focus import Focus
from callprep.briefs.models import Brief, BriefSection, BriefStatus, percent
from callprep.briefs.rendering import render_plain, safe_http_url


@dataclass
class FieldRow:
    key: str
    label: str
    help: str
    kind: str
    name: str
    value: Any
    confidence: str = ""
    evidence: str = ""
    filled: bool = False

    @property
    def lines_text(self) -> str:
        return "\n".join(S.lines_of(self.value))

    @property
    def lines(self) -> list[str]:
        return S.lines_of(self.value)

    @property
    def confidence_label(self) -> str:
        return S.Confidence(self.confidence).label if self.confidence else ""

    @property
    def evidence_url(self) -> str:
        return safe_http_url(self.evidence)

    @property
    def value_html(self) -> str:
        return render_plain(str(self.value or ""))


def field_rows(spec: S.SectionSpec, values: dict[str, Any] | None) -> list[FieldRow]:
    values = values or {}
    rows = []
    for fspec in spec.fields:
        value = values.get(fspec.key)
        row = FieldRow(
            key=fspec.key,
            label=fspec.label,
            help=fspec.help,
            kind=fspec.kind,
            name=f"f-{fspec.key}",
            value=value,
            filled=S.field_filled(fspec, value),
        )
        if fspec.kind == "claim":
            value = value if isinstance(value, dict) else {}
            row.value = value.get("text", "")
            row.confidence = value.get("confidence", "")
            row.evidence = value.get("evidence", "")
        rows.append(row)
    return rows


@dataclass
class Conflict:
    message: str
    stored: BriefSection
    stored_plain: str


@dataclass
class SectionPanel:
    section: BriefSection
    text: str
    fields: dict[str, Any]
    conflict: Conflict | None = None
    error: str = ""
    preview_html: str | None = None
    rows: list[FieldRow] = field(default_factory=list)
    # Review comment threads on this section (the editor shows them under the card).
    threads: list = field(default_factory=list)

    @classmethod
    def of(cls, section: BriefSection, **kwargs) -> SectionPanel:
        text = kwargs.pop("text", section.text)
        fields = kwargs.pop("fields", section.fields)
        panel = cls(section=section, text=text, fields=dict(fields or {}), **kwargs)
        panel.rows = field_rows(section.spec, panel.fields)
        return panel

    @property
    def spec(self) -> S.SectionSpec:
        return self.section.spec

    @property
    def key(self) -> str:
        return self.section.key

    @property
    def number(self) -> int:
        return self.section.position + 1

    @property
    def evaluation(self) -> S.Evaluation:
        return self.section.evaluation()

    @property
    def focus(self) -> Focus:
        return self.section.focus_reading()

    @property
    def claims(self) -> dict[str, int]:
        return self.section.claim_counts()

    @property
    def red_flags(self) -> list[str]:
        return self.section.red_flags()

    @property
    def confidences(self):
        return S.Confidence.choices


@dataclass(frozen=True)
class Completeness:
    complete: int
    total: int

    @property
    def percent(self) -> int:
        return percent(self.complete, self.total)


def completeness_after_save(section: BriefSection, state_before: str) -> Completeness | None:
    """The brief's completeness after a save of ``section`` (``Brief.with_completeness``), or
    None when the save left the section's state as it was, so the brief's completeness did not
    move and the page's meter is still right (an autosave pays no count)."""
    if section.state == state_before:
        return None
    brief = Brief.objects.with_completeness().get(pk=section.brief_id)
    return Completeness(*brief.completeness_counts())


@dataclass(frozen=True)
class DiffLine:
    op: str  # "same", "add", "del", "gap"
    text: str


def diff_lines(old: str, new: str, *, context: int = 3) -> list[DiffLine]:
    """A line diff from ``old`` to ``new``, with a few lines of context around changes."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    rows: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffLine("same", line) for line in a[i1:i2])
            else:
                rows.extend(DiffLine("del", line) for line in a[i1:i2])
                rows.extend(DiffLine("add", line) for line in b[j1:j2])
    return rows


# --- Pages the brief's views and the evidence views share ----------------------------------


def reopen_warning(brief: Brief) -> str:
    """For an approved brief, what the editor says before the first change is saved
    (``workflow.reopen_warning``); "" for any other brief."""
    if brief.status != BriefStatus.APPROVED:
        return ""
    from callprep.workflow import reopen_warning as warning

    return warning(brief)


def posted_confirm_reopen(request: HttpRequest) -> bool:
    """Whether the posted form confirms sending an approved brief back to review."""
    return request.POST.get("confirm_reopen") == "1"


def posted_base_version(request: HttpRequest) -> int | None:
    """The section version the posted form was rendered with, if it names one."""
    return id_from(request.POST.get("base_version", ""))  # a version has an id's range


def section_page(
    request: HttpRequest, section: BriefSection, panel: SectionPanel, *, status: int = 200
) -> HttpResponse:
    """The one-section page (editor without JavaScript, merge page, preview)."""
    brief = section.brief
    context = {
        "brief": brief,
        "call": brief.call,
        "panel": panel,
        "reopen_warning": reopen_warning(brief),
    }
    return render(request, "briefs/section_edit.html", context, status=status)


def conflict_panel(
    section: BriefSection, exc: services.StaleVersion
) -> tuple[BriefSection, SectionPanel]:
    """The stored section and the merge card showing it beside the text that was refused."""
    stored = exc.stored
    stored.brief = section.brief
    panel = SectionPanel.of(
        stored,
        text=exc.text,
        fields=exc.fields if exc.fields is not None else stored.fields,
        conflict=Conflict(exc.message, stored, stored.plain_text()),
    )
    return stored, panel


def add_to_section(
    request: HttpRequest, brief: Brief, key: str, addition: str, *, paragraph: bool = False
) -> HttpResponse:
    """The no-JavaScript way evidence enters a section (cite, "add to brief"): append
    ``addition`` through ``services.save_section`` with the version the page was rendered
    with, then back to the editor; a stale version shows the same merge page as a save."""
    section = section_for(request.user, brief.pk, key, write=True)
    try:
        services.append_to_section(
            section,
            addition,
            base_version=posted_base_version(request),
            by=request.user,
            paragraph=paragraph,
            confirm_reopen=posted_confirm_reopen(request),
        )
    except services.StaleVersion as exc:
        stored, panel = conflict_panel(section, exc)
        return section_page(request, stored, panel, status=409)
    except (services.SectionTooLong, services.ReopenNotConfirmed) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Added to {section.title}.")
    return redirect(reverse("briefs:edit", args=[brief.pk]) + f"#{section.anchor()}")

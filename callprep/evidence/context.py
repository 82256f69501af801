"""What the evidence panel shows, grouped by the brief section each kind of evidence supports.

The panel's own page and the brief's editor both build it here (``panel_context``), and the
executive view reads the same lines (``lines_for``), so no view module imports another.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from django.http import Http404, HttpRequest
from django.utils import timezone

from accounts.params import id_from
from callprep.briefs.sections import SectionKey

from . import collect
from .access import may_cite, may_refresh
from .insights import Change, change_since, insights_for
from .models import Evidence, EvidenceKind
from .sparkline import sparkline_svg

# Which brief section each kind of evidence supports (key, title).
SECTION_GROUPS: list[tuple[str, str, tuple[str, ...]]] = [
    ("financial_condition", "Financial condition", (EvidenceKind.FINANCIAL,)),
    ("economic_drivers", "Economic drivers", (EvidenceKind.INDICATOR,)),
    (
        "business_challenges",
        "Business challenges and industry dynamics",
        (EvidenceKind.FILING, EvidenceKind.NEWS, EvidenceKind.WEB, EvidenceKind.REFERENCE),
    ),
]
SECTION_TITLES = dict(SectionKey.choices)


@dataclass
class Line:
    """One row of the panel: the latest value of a metric or series, or one item."""

    evidence: Evidence
    history: list[Evidence] = field(default_factory=list)

    @property
    def sparkline(self):
        values = [e.value for e in self.history if e.value is not None]
        return sparkline_svg(values, label=f"Trend of {self.evidence.label}")

    @property
    def change_text(self) -> str:
        values = [e for e in self.history if e.value is not None]
        if len(values) < 2 or self.evidence.kind != EvidenceKind.INDICATOR:
            return ""
        from .insights import twelve_month_change

        change = twelve_month_change(values)
        if change is None:
            return ""
        if change.unit == "percent":
            return f"{change.delta:+.2f} pts in 12 months"
        return f"{change.percent:+.1f}% in 12 months" if change.percent is not None else ""

    since: Change | None = None
    since_day: date | None = None

    @property
    def since_text(self) -> str:
        """The move since the account's previous brief, e.g. "+0.50 pts since 3 Mar 2025"."""
        change = self.since
        if change is None:
            return ""
        day = f"{self.since_day:%-d %b %Y}" if self.since_day else "the last brief"
        if change.unit == "percent":
            return f"{change.delta:+.2f} pts since the last brief ({day})"
        if change.percent is None:
            return ""
        return f"{change.percent:+.1f}% since the last brief ({day})"


def lines_for(rows: list[Evidence], *, since: date | None = None) -> list[Line]:
    """Financial metrics and indicator series collapse to their latest value with a history;
    filings, news and web pages are listed one by one."""
    grouped: OrderedDict[tuple, list[Evidence]] = OrderedDict()
    for row in rows:
        if row.kind == EvidenceKind.FINANCIAL and row.metric:
            key = ("metric", row.metric)
        elif row.kind == EvidenceKind.INDICATOR and row.series:
            key = ("series", row.source, row.series)
        else:
            key = ("row", row.pk)
        grouped.setdefault(key, []).append(row)
    lines = []
    for items in grouped.values():
        history = sorted(items, key=lambda e: (e.period_end is None, e.period_end))
        reported = [e for e in history if e.value is not None] or history
        line = Line(evidence=reported[-1], history=history if len(history) > 1 else [])
        if since is not None and line.evidence.kind == EvidenceKind.INDICATOR:
            line.since, line.since_day = change_since(history, since), since
        lines.append(line)
    return lines


def previous_brief_day(account, brief=None) -> date | None:
    """When the account's previous brief was started: the one before ``brief``, or the
    latest when there is no brief in view."""
    from callprep.briefs.models import Brief

    briefs = Brief.objects.filter(call__account=account)
    if brief is not None:
        briefs = briefs.filter(created_at__lt=brief.created_at).exclude(pk=brief.pk)
    started = briefs.order_by("-created_at").values_list("created_at", flat=True).first()
    return timezone.localdate(started) if started else None


def brief_in_view(request: HttpRequest, account, brief=None):
    """The brief the panel serves (``?brief=`` or the editor's), if the user may read it and
    it is this account's (404 otherwise)."""
    if brief is None:
        raw = request.GET.get("brief", "") or request.POST.get("brief", "")
        if not raw:
            return None
        brief_id = id_from(raw)
        if brief_id is None:
            raise Http404("No such brief.")
        from callprep.briefs.access import brief_for

        brief = brief_for(request.user, brief_id)
    if brief.account_id != account.pk:
        raise Http404("No such brief.")
    return brief


def section_in_view(request: HttpRequest) -> str:
    key = request.GET.get("section", "")
    return key if key in SectionKey.values else ""


def shown_in_editor(request: HttpRequest, brief) -> bool:
    """Whether the panel is being drawn into the brief's editor (a region the editor's page
    asked for), where the editor's script puts a citation's marker at the cursor. Anywhere
    else a brief's "Cite" and "Add to brief" are plain forms that write into the section."""
    if brief is None or not request.htmx:
        return False
    current = request.htmx.current_url_abs_path or ""
    return urlsplit(current).path == brief.get_edit_url()


def panel_context(
    request: HttpRequest, account, *, brief=None, in_editor: bool | None = None, **extra
) -> dict:
    """Everything the panel shows. In a brief (the editor's, or ``?brief=``) it also knows
    the section to cite into (``?section=``, else each group's own section), the versions
    the no-JavaScript forms save on, and the date of the account's previous brief."""
    brief = brief_in_view(request, account, brief)
    if in_editor is None:
        in_editor = shown_in_editor(request, brief)
    section_key = section_in_view(request)
    since = previous_brief_day(account, brief)
    rows = list(Evidence.objects.filter(account=account).order_by("kind", "source", "key"))
    versions: dict[str, int] = {}
    can_cite = may_cite(account, request.user, brief)
    if brief is not None and can_cite:
        from callprep.briefs.models import BriefSection

        versions = dict(BriefSection.objects.filter(brief=brief).values_list("key", "version"))
    groups = []
    for key, title, kinds in SECTION_GROUPS:
        chosen = [r for r in rows if r.kind in kinds]
        chosen.sort(key=lambda r: (r.kind, r.period_end is None, r.period_end), reverse=False)
        if key == "business_challenges":
            chosen.sort(key=lambda r: (r.period_end is not None, r.period_end), reverse=True)
        target = section_key or key
        groups.append(
            {
                "key": key,
                "title": title,
                "lines": lines_for(chosen, since=since),
                "target": target,
                "target_title": SECTION_TITLES.get(target, target),
                "base_version": versions.get(target, ""),
            }
        )
    insights = [
        {
            "insight": insight,
            "target": insight.section,
            "target_title": SECTION_TITLES.get(insight.section, insight.section),
            "base_version": versions.get(insight.section, ""),
        }
        for insight in insights_for(account)
    ]
    query = ""
    if brief is not None:
        query = f"?brief={brief.pk}" + (f"&section={section_key}" if section_key else "")
    return {
        "account": account,
        "groups": groups,
        "run": collect.latest_run(account),
        "insights": insights,
        "has_evidence": bool(rows),
        "can_refresh": may_refresh(account, request.user),
        "can_cite": can_cite,
        "brief": brief,
        "brief_id": brief.pk if brief else "",
        "section_key": section_key,
        "since": since,
        "panel_query": query,
        # htmx cites where a script can take the answer: in the editor, or with no brief.
        "htmx_cite": in_editor or brief is None,
        **extra,
    }


def panel_query(request: HttpRequest, account) -> str:
    """The query string that keeps the panel in its brief and section (``?brief=…``)."""
    brief = brief_in_view(request, account)
    if brief is None:
        return ""
    section_key = section_in_view(request)
    return f"?brief={brief.pk}" + (f"&section={section_key}" if section_key else "")

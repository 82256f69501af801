"""Evidence views: the panel (grouped by the brief section it supports), run progress with
htmx polling that stops when the run ends, a rate-limited refresh, and the cite action.

Every view fetches the account through ``accounts.access.account_for`` (outsiders get 404).
Writes (refresh, cite) need someone who prepares briefs: read-only users get 403.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import ratelimit
from accounts.access import account_for
from accounts.ratelimit import Limit
from callprep.briefs.sections import SectionKey

from . import collect
from .insights import Change, change_since, insights_for
from .models import Citation, CollectionRun, Evidence, EvidenceKind, Trigger
from .sparkline import sparkline_svg

PANEL = "evidence/panel.html"

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
REFRESH_INTERVAL = 60  # seconds between two refreshes of one account by one user


def is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def can_prepare(user) -> bool:
    return user.is_rep or user.is_admin_role


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

    briefs = Brief.objects.filter(account=account)
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
        if not raw.isdigit():
            raise Http404("No such brief.")
        from callprep.briefs.access import brief_for

        brief = brief_for(request.user, int(raw))
    if brief.account_id != account.pk:
        raise Http404("No such brief.")
    return brief


def section_in_view(request: HttpRequest) -> str:
    key = request.GET.get("section", "")
    return key if key in SectionKey.values else ""


def panel_context(request: HttpRequest, account, *, brief=None, **extra) -> dict:
    """Everything the panel shows. In a brief (the editor's, or ``?brief=``) it also knows
    the section to cite into (``?section=``, else each group's own section), the versions
    the no-JavaScript forms save on, and the date of the account's previous brief."""
    brief = brief_in_view(request, account, brief)
    section_key = section_in_view(request)
    since = previous_brief_day(account, brief)
    rows = list(Evidence.objects.filter(account=account).order_by("kind", "source", "key"))
    versions: dict[str, int] = {}
    can_write = can_prepare(request.user)
    if brief is not None:
        from callprep.briefs.models import BriefSection

        can_write = can_write and brief.is_editable_by(request.user)
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
        "can_prepare": can_write,
        "brief": brief,
        "brief_id": brief.pk if brief else "",
        "section_key": section_key,
        "since": since,
        "panel_query": query,
        **extra,
    }


@require_http_methods(["GET"])
def panel(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = account_for(request.user, account_pk)
    context = panel_context(request, account)
    template = f"{PANEL}#panel" if is_partial(request) else PANEL
    return render(request, template, context)


@require_http_methods(["GET"])
def run_status(request: HttpRequest, run_pk: int) -> HttpResponse:
    run = CollectionRun.objects.visible_to(request.user).filter(pk=run_pk).first()
    if run is None:
        raise Http404("No such collection run.")
    account = account_for(request.user, run.account_id)
    if is_partial(request):
        context = {"run": run, "account": account, "panel_query": _query(request, account)}
        response = render(request, f"{PANEL}#status", context)
        if run.is_finished:
            # The panel listens for this and reloads itself with the new evidence.
            response["HX-Trigger"] = "evidence-updated"
        return response
    return render(request, PANEL, panel_context(request, account, run=run))


def _query(request: HttpRequest, account) -> str:
    brief = brief_in_view(request, account)
    if brief is None:
        return ""
    section_key = section_in_view(request)
    return f"?brief={brief.pk}" + (f"&section={section_key}" if section_key else "")


def refresh_allowed(user, account) -> int:
    """0 when the user may refresh the account's evidence now, else the seconds to wait."""
    interval = getattr(settings, "EVIDENCE_REFRESH_INTERVAL", REFRESH_INTERVAL)
    return ratelimit.hit("evidence_refresh", f"{user.pk}:{account.pk}", Limit(1, interval))


@require_http_methods(["POST"])
def refresh(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = account_for(request.user, account_pk)
    if not can_prepare(request.user):
        raise PermissionDenied("Only the people who prepare briefs refresh evidence.")
    wait = refresh_allowed(request.user, account)
    if wait:
        text = (
            f"You refreshed the evidence for {account.name} a moment ago; "
            f"try again in {wait} seconds."
        )
        if is_partial(request):
            context = {"run": collect.latest_run(account), "account": account, "notice": text}
            context["panel_query"] = _query(request, account)
            return ratelimit.too_many(render(request, f"{PANEL}#status", context), wait)
        response = render(request, PANEL, panel_context(request, account, notice=text))
        return ratelimit.too_many(response, wait)
    run = collect.start_collection(account, trigger=Trigger.MANUAL, by=request.user)
    if is_partial(request):
        context = {"run": run, "account": account, "panel_query": _query(request, account)}
        return render(request, f"{PANEL}#status", context)
    messages.success(request, "Collecting fresh evidence; this page shows the progress.")
    brief = brief_in_view(request, account)
    if brief is not None:
        return redirect(brief.get_edit_url() + "#evidence-panel")
    return redirect(reverse("evidence:panel", args=[account.pk]))


def brief_for_citation(user, brief_id: str):
    """The brief a citation goes into: 404 unless the user may read it, 403 unless they may
    edit it."""
    if not brief_id:
        return None
    if not brief_id.isdigit():
        raise Http404("No such brief.")
    from callprep.briefs.access import brief_for

    return brief_for(user, int(brief_id), write=True)


def section_for_citation(request: HttpRequest, brief, default: str = "") -> str:
    key = request.POST.get("section", "") or default
    if brief is not None and key not in SectionKey.values:
        raise Http404("No such section.")
    return key[:40]


def cite_evidence(evidence: Evidence, *, by, brief_id: int | None, section_key: str) -> Citation:
    """Keep a snapshot of the evidence as it is now, so the footnote survives a refresh."""
    return Citation.objects.create(
        account_id=evidence.account_id,
        evidence=evidence,
        brief_id=brief_id,
        section_key=section_key[:40],
        label=evidence.label,
        value=evidence.value,
        unit=evidence.unit,
        value_text=evidence.value_text if evidence.value is not None else "",
        source=evidence.source,
        source_name=evidence.source_name,
        period_start=evidence.period_start,
        period_end=evidence.period_end,
        url=evidence.url,
        retrieved_at=evidence.retrieved_at,
        excerpt=evidence.excerpt,
        cited_by=by,
    )


@require_http_methods(["POST"])
def cite(request: HttpRequest, evidence_pk: int) -> HttpResponse:
    """Keep a snapshot and put its marker ``[^cN]`` into the section.

    With htmx the answer is the citation snippet (``data-marker``) and the editor's script
    inserts the marker at the cursor and autosaves. Without JavaScript the marker is appended
    to the section here, through the same save path (the posted ``base_version``; a stale one
    gives the merge page), and the rep goes back to the editor.
    """
    evidence = Evidence.objects.visible_to(request.user).filter(pk=evidence_pk).first()
    if evidence is None:
        raise Http404("No such evidence.")
    account = account_for(request.user, evidence.account_id)
    if not can_prepare(request.user):
        raise PermissionDenied("Only the people who prepare briefs cite evidence.")
    brief = brief_for_citation(request.user, request.POST.get("brief", ""))
    if brief is not None and brief.account_id != account.pk:
        raise Http404("No such brief.")
    section_key = section_for_citation(request, brief)
    citation = cite_evidence(
        evidence,
        by=request.user,
        brief_id=brief.pk if brief else None,
        section_key=section_key,
    )
    if brief is not None:
        from callprep.briefs import services

        services.remember_citation(brief.pk, section_key, citation)
    if is_partial(request):
        context = {"citation": citation, "section_title": SECTION_TITLES.get(section_key, "")}
        return render(request, "evidence/_citation.html", context, status=201)
    if brief is not None:
        from callprep.briefs.views import add_to_section

        return add_to_section(request, brief, section_key, f"[^c{citation.pk}]")
    messages.success(request, f"Cited: {citation.footnote()}")
    return redirect(reverse("evidence:panel", args=[account.pk]))


@require_http_methods(["POST"])
def add_insight(request: HttpRequest, account_pk: int, key: str) -> HttpResponse:
    """ "Add to brief" on a suggested talking point: only on the rep's click. The talking point
    goes into its section as a new paragraph, with citations of the numbers behind it."""
    account = account_for(request.user, account_pk)
    if not can_prepare(request.user):
        raise PermissionDenied("Only the people who prepare briefs add to them.")
    brief = brief_for_citation(request.user, request.POST.get("brief", ""))
    if brief is None or brief.account_id != account.pk:
        raise Http404("No such brief.")
    insight = next((i for i in insights_for(account) if i.key == key), None)
    if insight is None:
        messages.error(request, "That talking point no longer follows from the evidence.")
        if is_partial(request):
            return HttpResponse(status=404)
        return redirect(brief.get_edit_url() + "#evidence-panel")
    section_key = section_for_citation(request, brief, insight.section)
    from callprep.briefs import services

    ids = [n.evidence_id for n in insight.numbers if n.evidence_id]
    by_pk = Evidence.objects.filter(account=account).in_bulk(ids)
    markers = []
    for pk in dict.fromkeys(ids):
        if pk in by_pk:
            citation = cite_evidence(
                by_pk[pk], by=request.user, brief_id=brief.pk, section_key=section_key
            )
            services.remember_citation(brief.pk, section_key, citation)
            markers.append(f"[^c{citation.pk}]")
    text = insight.talking_point + (" " + "".join(markers) if markers else "")
    if is_partial(request):
        context = {
            "text": text,
            "section_key": section_key,
            "section_title": SECTION_TITLES.get(section_key, section_key),
            "insight": insight,
        }
        return render(request, "evidence/_insertion.html", context, status=201)
    from callprep.briefs.views import add_to_section

    return add_to_section(request, brief, section_key, text, paragraph=True)


@require_http_methods(["GET"])
def citation_detail(request: HttpRequest, citation_pk: int) -> HttpResponse:
    """The citation markup again (the editor re-renders footnotes from ids)."""
    citation = Citation.objects.filter(pk=citation_pk).first()
    if citation is None:
        raise Http404("No such citation.")
    account_for(request.user, citation.account_id)
    return render(request, "evidence/_citation.html", {"citation": citation})

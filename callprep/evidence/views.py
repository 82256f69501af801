"""Evidence views: the panel (grouped by the brief section it supports), run progress with
htmx polling that stops when the run ends, a rate-limited refresh, and the cite action.

Every view fetches the account through ``accounts.access.account_for`` (outsiders get 404).
Writes (refresh, cite) need someone who prepares briefs: read-only users get 403.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts import ratelimit
from accounts.access import account_for
from accounts.params import id_from
from accounts.ratelimit import Limit
from callprep.briefs.panels import add_to_section
from callprep.briefs.sections import SectionKey
from callprep.errors import BriefError

from . import collect, services
from .context import SECTION_TITLES, brief_in_view, can_prepare, panel_context, panel_query
from .insights import insights_for
from .models import Citation, CollectionRun, Evidence, Trigger

PANEL = "evidence/panel.html"

REFRESH_INTERVAL = 60  # seconds between two refreshes of one account by one user


def is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


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
        context = {"run": run, "account": account, "panel_query": panel_query(request, account)}
        response = render(request, f"{PANEL}#status", context)
        if run.is_finished:
            # The panel listens for this and reloads itself with the new evidence.
            response["HX-Trigger"] = "evidence-updated"
        return response
    return render(request, PANEL, panel_context(request, account, run=run))


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
            context["panel_query"] = panel_query(request, account)
            return ratelimit.too_many(render(request, f"{PANEL}#status", context), wait)
        response = render(request, PANEL, panel_context(request, account, notice=text))
        return ratelimit.too_many(response, wait)
    run = collect.start_collection(account, trigger=Trigger.MANUAL, by=request.user)
    if is_partial(request):
        context = {"run": run, "account": account, "panel_query": panel_query(request, account)}
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
    pk = id_from(brief_id)
    if pk is None:
        raise Http404("No such brief.")
    from callprep.briefs.access import brief_for

    return brief_for(user, pk, write=True)


def section_for_citation(request: HttpRequest, brief, default: str = "") -> str:
    key = request.POST.get("section", "") or default
    if brief is not None and key not in SectionKey.values:
        raise Http404("No such section.")
    return key[:40]


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
    try:
        citation = services.cite_evidence(
            evidence, by=request.user, brief=brief, section_key=section_key
        )
    except BriefError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("evidence:panel", args=[account.pk]))
    if is_partial(request):
        context = {"citation": citation, "section_title": SECTION_TITLES.get(section_key, "")}
        return render(request, "evidence/_citation.html", context, status=201)
    if brief is not None:
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
    citations = services.cite_insight(
        insight, by=request.user, brief=brief, section_key=section_key
    )
    markers = [f"[^c{citation.pk}]" for citation in citations]
    text = insight.talking_point + (" " + "".join(markers) if markers else "")
    if is_partial(request):
        context = {
            "text": text,
            "section_key": section_key,
            "section_title": SECTION_TITLES.get(section_key, section_key),
            "insight": insight,
        }
        return render(request, "evidence/_insertion.html", context, status=201)
    return add_to_section(request, brief, section_key, text, paragraph=True)


@require_http_methods(["GET"])
def citation_detail(request: HttpRequest, citation_pk: int) -> HttpResponse:
    """The citation markup again (the editor re-renders footnotes from ids)."""
    citation = Citation.objects.filter(pk=citation_pk).first()
    if citation is None:
        raise Http404("No such citation.")
    account_for(request.user, citation.account_id)
    return render(request, "evidence/_citation.html", {"citation": citation})

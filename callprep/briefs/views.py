"""Brief views: thin — fetch through the access helper, call a service, render or redirect."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods
from django_htmx.http import reswap, retarget

from callprep.access import call_for
from callprep.briefs import sections as S
from callprep.briefs import services
from callprep.briefs.access import brief_for, section_for
from callprep.briefs.models import Brief, BriefSection, SectionRevision
from callprep.briefs.panels import (
    Completeness,
    SectionPanel,
    completeness_after_save,
    conflict_panel,
    diff_lines,
    posted_base_version,
    posted_confirm_reopen,
    reopen_warning,
    section_page,
)
from callprep.briefs.rendering import render_markdown
from callprep.errors import BriefError
from callprep.evidence.context import panel_context, shown_in_editor
from callprep.review.context import review_facts, threads_for
from callprep.review.models import mark_read_on_act

SECTION_PARTIALS = "briefs/_section.html"


def _sections(brief: Brief) -> list[BriefSection]:
    sections = list(
        BriefSection.objects.filter(brief=brief).select_related("updated_by").order_by("position")
    )
    for section in sections:
        section.brief = brief  # no query per section for brief.call
    return sections


def _completeness(sections: list[BriefSection]) -> Completeness:
    required = [s for s in sections if s.required]
    done = sum(1 for s in required if s.state == S.SectionState.COMPLETE)
    return Completeness(done, len(required))


# --- Starting -------------------------------------------------------------------------------


@require_http_methods(["GET"])
def for_call(request: HttpRequest, call_pk: int) -> HttpResponse:
    """The brief of a call: the editor for its writers, the read view for readers."""
    call = call_for(request.user, call_pk)
    brief = Brief.objects.filter(call=call).first()
    can_edit = call.is_editable_by(request.user)
    if brief is not None:
        return redirect(brief.get_edit_url() if can_edit else brief.get_absolute_url())
    if can_edit:
        return redirect("briefs:start", call_pk=call.pk)
    return render(request, "briefs/no_brief.html", {"call": call})


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, call_pk: int) -> HttpResponse:
    call = call_for(request.user, call_pk, write=True)
    existing = Brief.objects.filter(call=call).first()
    if existing is not None:
        return redirect(existing.get_edit_url())
    previous = Brief.objects.latest_for_account(call.account, exclude_call=call)
    error = ""
    if request.method == "POST":
        try:
            brief = services.start_brief(
                call, by=request.user, carry_forward=request.POST.get("carry_forward") == "1"
            )
        except BriefError as exc:
            error = exc.message
        else:
            if brief.carried_from_id:
                messages.success(request, "Brief started from the account's latest brief.")
            else:
                messages.success(request, "Brief started.")
            return redirect(brief.get_edit_url())
    context = {"call": call, "previous": previous, "error": error}
    return render(request, "briefs/start.html", context, status=400 if error else 200)


# --- Reading and editing --------------------------------------------------------------------


@require_http_methods(["GET"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The read view: everyone who may read the call reads its brief here."""
    brief = brief_for(request.user, pk)
    sections = _sections(brief)
    context = {
        "brief": brief,
        "call": brief.call,
        "panels": [SectionPanel.of(s) for s in sections],
        "completeness": _completeness(sections),
        **review_facts(brief, request.user),
    }
    return render(request, "briefs/brief_detail.html", context)


@require_http_methods(["GET"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    brief = brief_for(request.user, pk, write=True)
    services.refresh_customer_terms(brief)
    mark_read_on_act(request.user, brief=brief)  # opening it to edit: its news are seen
    sections = _sections(brief)
    threads = threads_for(brief)
    context = {
        "reopen_warning": reopen_warning(brief),
        "brief": brief,
        "call": brief.call,
        "panels": [SectionPanel.of(s, threads=threads.get(s.key, [])) for s in sections],
        "completeness": _completeness(sections),
        "evidence": panel_context(request, brief.account, brief=brief, in_editor=True),
        **review_facts(brief, request.user),
    }
    return render(request, "briefs/brief_edit.html", context)


def _posted(section: BriefSection, request: HttpRequest) -> tuple[str, dict | None]:
    text = services.normalize_text(request.POST.get("text", ""))
    if section.is_structured:
        return text, S.clean_fields(section.spec, request.POST)
    return text, None


@require_http_methods(["GET", "POST"])
def section(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """One section: GET is its editor page (and the htmx card); POST saves it.

    With htmx a save answers with the small "saved at" status plus out-of-band updates of the
    version, state, meters and completeness; a conflict answers 409 with the merge card. A plain
    form post redirects back to the editor, or shows the merge page with 409.
    """
    section = section_for(request.user, pk, key, write=True, for_save=request.method == "POST")
    if request.method == "GET":
        panel = SectionPanel.of(section)
        if request.htmx:
            return render(request, f"{SECTION_PARTIALS}#section-card", {"panel": panel})
        return section_page(request, section, panel)

    base_version = posted_base_version(request)
    if base_version is None:
        return HttpResponseBadRequest("The form is missing the section version; reload the page.")
    text, fields = _posted(section, request)
    merging = request.POST.get("merge") == "1"
    kind = services.RevisionKind.MERGE if merging else services.RevisionKind.EDIT
    state_before = section.state
    try:
        services.save_section(
            section,
            text=text,
            fields=fields,
            base_version=base_version,
            by=request.user,
            kind=kind,
            confirm_reopen=posted_confirm_reopen(request),
        )
    except (services.SectionTooLong, services.ReopenNotConfirmed) as exc:
        panel = SectionPanel.of(
            section, text=text, fields=fields or section.fields, error=exc.message
        )
        if request.htmx:
            return render(request, f"{SECTION_PARTIALS}#save-status", {"panel": panel}, status=422)
        return section_page(request, section, panel, status=422)
    except services.StaleVersion as exc:
        stored, panel = conflict_panel(section, exc)
        if request.htmx:
            response = render(
                request, f"{SECTION_PARTIALS}#section-card", {"panel": panel}, status=409
            )
            return reswap(retarget(response, f"#{section.anchor()}"), "outerHTML")
        return section_page(request, stored, panel, status=409)

    saved_at = date_format(timezone.localtime(section.updated_at), "H:i:s")
    if not request.htmx:
        messages.success(request, f"{section.title} saved at {saved_at}.")
        return redirect(reverse("briefs:edit", args=[pk]) + f"#{section.anchor()}")
    # The overview's badges and meter are updated only on the page that has them.
    in_editor = shown_in_editor(request, section.brief)
    context = {
        "panel": SectionPanel.of(section),
        "saved_at": saved_at,
        "completeness": completeness_after_save(section, state_before) if in_editor else None,
        "oob": True,
        "merged": merging,
        "in_editor": in_editor,
    }
    if merging:
        return render(request, f"{SECTION_PARTIALS}#section-card", context)
    response = render(request, f"{SECTION_PARTIALS}#save-status", context)
    response["X-Section-Version"] = str(section.version)
    return response


@require_http_methods(["POST"])
def preview(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Render the posted text as it will be stored; htmx gets the fragment, others the page."""
    section = section_for(request.user, pk, key, write=True)
    text, fields = _posted(section, request)
    text = text[: S.MAX_SECTION_CHARS]
    notes = services.citations_for(pk, text, section.citations)[0] if "[^c" in text else {}
    citations = {int(k): v for k, v in notes.items() if v}
    html = render_markdown(text, citations=citations, scope=section.key).html
    if request.htmx:
        return render(request, f"{SECTION_PARTIALS}#preview", {"preview_html": html})
    panel = SectionPanel.of(section, text=text, fields=fields or section.fields, preview_html=html)
    base_version = posted_base_version(request)
    if base_version is not None:
        section.version = base_version  # keep the version the writer started from
    return section_page(request, section, panel)


# --- History --------------------------------------------------------------------------------


@require_http_methods(["GET"])
def history(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    section = section_for(request.user, pk, key)
    revisions = section.revisions.select_related("author").order_by("-version")
    context = {
        "brief": section.brief,
        "call": section.brief.call,
        "section": section,
        "revisions": revisions,
        "can_edit": section.brief.is_editable_by(request.user),
    }
    if request.htmx:
        return render(request, "briefs/history.html#revision-list", context)
    return render(request, "briefs/history.html", context)


def _revision(section: BriefSection, rev_pk: int) -> SectionRevision:
    return get_object_or_404(
        SectionRevision.objects.select_related("author", "restored_from"),
        pk=rev_pk,
        section=section,
    )


@require_http_methods(["GET"])
def revision(request: HttpRequest, pk: int, key: str, rev_pk: int) -> HttpResponse:
    section = section_for(request.user, pk, key)
    rev = _revision(section, rev_pk)
    rev.section = section
    against = request.GET.get("against", "previous")
    if against == "current":
        old, new = rev.plain_text(), section.plain_text()
        title = f"From version {rev.version} to the current text"
    else:
        against = "previous"
        before = section.revisions.filter(version__lt=rev.version).order_by("-version").first()
        if before is not None:
            before.section = section
        old = before.plain_text() if before else ""
        new = rev.plain_text()
        title = (
            f"What changed in version {rev.version}"
            if before
            else f"Version {rev.version} (the first revision)"
        )
    context = {
        "brief": section.brief,
        "call": section.brief.call,
        "section": section,
        "revision": rev,
        "against": against,
        "title": title,
        "diff": diff_lines(old, new),
        "can_restore": section.brief.is_editable_by(request.user)
        and rev.version != section.version,
        "reopen_warning": reopen_warning(section.brief),
    }
    return render(request, "briefs/revision.html", context)


@require_http_methods(["POST"])
def restore(request: HttpRequest, pk: int, key: str, rev_pk: int) -> HttpResponse:
    section = section_for(request.user, pk, key, write=True)
    rev = _revision(section, rev_pk)
    try:
        services.restore_revision(
            rev,
            by=request.user,
            base_version=posted_base_version(request),
            confirm_reopen=posted_confirm_reopen(request),
        )
    except services.StaleVersion:
        messages.error(
            request,
            "The section changed since you opened its history; nothing was restored. "
            "Compare again and retry.",
        )
        return redirect("briefs:history", pk=pk, key=key)
    except BriefError as exc:
        messages.error(request, exc.message)
        return redirect("briefs:history", pk=pk, key=key)
    messages.success(request, f"Version {rev.version} of {section.title} restored.")
    return redirect(reverse("briefs:edit", args=[pk]) + f"#{section.anchor()}")

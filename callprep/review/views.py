"""Review views: thin — fetch through the access helper, call a workflow function, render or
redirect. Transition endpoints accept POST only (GET answers 405); a refused transition shows
its message and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts import visibility
from accounts.models import Team
from accounts.params import IdField, filter_errors, id_from, valid_filters
from callprep import workflow
from callprep.briefs import sections as S
from callprep.briefs.access import brief_for
from callprep.briefs.models import Brief, BriefSection
from callprep.briefs.panels import diff_lines
from callprep.errors import BriefError
from callprep.review import executive
from callprep.review import notify as N
from callprep.review.context import notification_groups, review_facts, threads_for
from callprep.review.models import (
    SNIFF_TEST,
    EmailMute,
    ExecutiveRead,
    Notification,
    NotificationKind,
    SectionComment,
    SniffAnswer,
)

QUEUE = "review/queue.html"
DUE_SOON = timedelta(hours=24)


def _fail(request: HttpRequest, exc: BriefError, to: str) -> HttpResponse:
    messages.error(request, exc.message)
    return redirect(to)


def _sections(brief: Brief) -> list[BriefSection]:
    sections = list(BriefSection.objects.filter(brief=brief).order_by("position"))
    for section in sections:
        section.brief = brief
    return sections


# --- Review queue -------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    team = IdField()


@require_http_methods(["GET"])
def review_queue(request: HttpRequest) -> HttpResponse:
    """Submitted briefs waiting for this reviewer, ordered by call time; filter by team."""
    user = request.user
    if not visibility.may_review_anything(user):
        raise PermissionDenied("The review queue is for executives and managers.")
    now = timezone.now()
    briefs = (
        Brief.objects.reviewable_by(user)
        .in_review_queue(now)
        .select_related("call__owner", "call__executive", "call__account__team")
        .with_completeness()
        .order_by("call__starts_at", "pk")
    )
    teams = Team.objects.filter(
        pk__in=Brief.objects.reviewable_by(user).in_review_queue(now).values("call__account__team")
    ).order_by("name")
    form = QueueFilterForm(request.GET)
    team = valid_filters(form).get("team")
    if team is not None:
        briefs = briefs.filter(call__account__team_id=team)
    rows = [
        {
            "brief": brief,
            "due": brief.due,
            "waiting_on_reviewer": brief.waiting_on_reviewer(now),
            "due_soon": brief.is_due_soon(now, within=DUE_SOON),
        }
        for brief in briefs
    ]
    context = {
        "rows": rows,
        "teams": teams,
        "team": team,
        "now": now,
        "filter_errors": filter_errors(form),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{QUEUE}#queue", context)
    return render(request, QUEUE, context)


# --- Transitions ----------------------------------------------------------------------------


@require_http_methods(["POST"])
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    brief = brief_for(request.user, pk, write=True)
    try:
        workflow.submit_brief(brief, by=request.user, comment=request.POST.get("comment", ""))
    except BriefError as exc:
        return _fail(request, exc, brief.get_edit_url())
    messages.success(request, "Brief submitted for review.")
    return redirect(brief.get_edit_url())


@require_http_methods(["POST"])
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    brief = brief_for(request.user, pk, write=True)
    try:
        workflow.withdraw_brief(brief, by=request.user, comment=request.POST.get("comment", ""))
    except BriefError as exc:
        return _fail(request, exc, brief.get_edit_url())
    messages.success(request, "Brief withdrawn from review; it is a draft again.")
    return redirect(brief.get_edit_url())


@require_http_methods(["GET"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """The reviewer's page: the sniff test (approve) and the request for changes."""
    brief = brief_for(request.user, pk, review=True)
    sections = _sections(brief)
    deal = next((s for s in sections if s.key == S.SectionKey.DEAL_CHECK), None)
    plan = next((s for s in sections if s.key == S.SectionKey.CALL_PLAN), None)
    hints = _sniff_hints(deal.fields if deal else {}, plan.fields if plan else {})
    questions = [
        {"q": q, "hint": hints.get(q.key, ""), "choices": SniffAnswer.choices} for q in SNIFF_TEST
    ]
    context = {
        "brief": brief,
        "call": brief.call,
        "sections": sections,
        "questions": questions,
        "red_flags": S.red_flags(deal.fields if deal else {}),
        **review_facts(brief, request.user),
    }
    return render(request, "review/review.html", context)


def _sniff_hints(deal: dict, plan: dict) -> dict[str, str]:
    def claim(key: str) -> str:
        value = deal.get(key) if isinstance(deal.get(key), dict) else {}
        words = str(value.get("text", "")).strip()
        if not words:
            return "The brief says nothing."
        how = S.Confidence(value["confidence"]).label if value.get("confidence") else "no source"
        return f"The brief: “{words}” ({how})."

    met = "met" if deal.get("economic_buyer_met") else "not met"
    say = str(plan.get("exec_say", "") or "").strip()
    return {
        "economic_buyer_met": f"{claim('economic_buyer')} The rep says: {met}.",
        "compelling_event": claim("compelling_event"),
        "pain_confirmed": claim("pain"),
        "paper_process": claim("paper_process"),
        "executive_role": f"The brief: “{say}”." if say else "The brief says nothing.",
    }


@require_http_methods(["POST"])
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    brief = brief_for(request.user, pk, review=True)
    answers = {
        q.key: {
            "answer": request.POST.get(f"sniff-{q.key}", ""),
            "note": request.POST.get(f"sniff-{q.key}-note", ""),
        }
        for q in SNIFF_TEST
    }
    try:
        approval = workflow.approve_brief(
            brief,
            by=request.user,
            answers=answers,
            with_concerns=request.POST.get("with_concerns") == "1",
            concerns=request.POST.get("concerns", ""),
            comment=request.POST.get("comment", ""),
        )
    except BriefError as exc:
        return _fail(request, exc, reverse("briefs:review", args=[pk]))
    verb = "approved with concerns" if approval.with_concerns else "approved"
    messages.success(request, f"Brief {verb} (version {approval.number}).")
    return redirect("briefs:executive", pk=pk)


@require_http_methods(["POST"])
def request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    brief = brief_for(request.user, pk, review=True)
    notes = {key: request.POST.get(f"comment-{key}", "") for key in S.SectionKey.values}
    try:
        workflow.request_changes(
            brief,
            by=request.user,
            comment=request.POST.get("comment", ""),
            section_comments=notes,
        )
    except BriefError as exc:
        return _fail(request, exc, reverse("briefs:review", args=[pk]))
    messages.success(request, "Changes requested; the rep has been notified.")
    return redirect("callprep:review_queue")


@require_http_methods(["POST"])
def briefed(request: HttpRequest, pk: int) -> HttpResponse:
    brief = brief_for(request.user, pk)
    try:
        workflow.mark_briefed(brief, by=request.user)
    except BriefError as exc:
        if not review_facts(brief, request.user)["can_mark_briefed"]:
            raise PermissionDenied(exc.message) from exc
        return _fail(request, exc, reverse("briefs:executive", args=[pk]))
    messages.success(request, "Marked as briefed. Enjoy the call.")
    return redirect("briefs:executive", pk=pk)


# --- Reading ---------------------------------------------------------------------------------


@require_http_methods(["GET"])
def executive_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The brief for the ride in: one page, phone-readable and printable."""
    brief = brief_for(request.user, pk)
    sections = _sections(brief)
    context = {
        "brief": brief,
        "call": brief.call,
        "x": executive.build(brief, sections),
        **review_facts(brief, request.user),
    }
    return render(request, "review/executive.html", context)


@require_http_methods(["GET"])
def changes(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed since the latest approval, section by section."""
    brief = brief_for(request.user, pk)
    approval = workflow.latest_approval(brief)
    diffs = []
    if approval is not None:
        for section in _sections(brief):
            entry = approval.snapshot.get(section.key) or {}
            if entry.get("version") == section.version:
                continue
            diffs.append(
                {
                    "section": section,
                    "approved_version": entry.get("version"),
                    "diff": diff_lines(entry.get("plain", ""), section.plain_text()),
                }
            )
    context = {
        "brief": brief,
        "call": brief.call,
        "approval": approval,
        "diffs": diffs,
    }
    return render(request, "review/changes.html", context)


@require_http_methods(["GET"])
def audit(request: HttpRequest, pk: int) -> HttpResponse:
    brief = brief_for(request.user, pk)
    entries = brief.transitions.select_related("by").order_by("at", "pk")
    context = {
        "brief": brief,
        "call": brief.call,
        "entries": entries,
        "approvals": brief.approvals.select_related("by").order_by("number"),
        "reads": ExecutiveRead.objects.filter(brief=brief).select_related("user"),
    }
    return render(request, "review/audit.html", context)


# --- Comments --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def comments(request: HttpRequest, pk: int) -> HttpResponse:
    """All comment threads of a brief by section (GET); post a comment or a reply (POST)."""
    brief = brief_for(request.user, pk)
    if request.method == "POST":
        if not workflow.can_comment(brief, request.user):
            raise PermissionDenied("You can read this brief's comments but not add to them.")
        parent = None
        raw_parent = request.POST.get("parent", "")
        if raw_parent:
            parent_id = id_from(raw_parent)
            if parent_id is None:
                raise Http404("No such comment.")
            parent = get_object_or_404(SectionComment, pk=parent_id, brief=brief)
        try:
            comment = workflow.add_comment(
                brief,
                by=request.user,
                section_key=request.POST.get("section", ""),
                body=request.POST.get("body", ""),
                parent=parent,
            )
        except BriefError as exc:
            return _fail(request, exc, _back(request, reverse("briefs:comments", args=[pk])))
        messages.success(request, "Comment posted.")
        return redirect(
            _back(request, reverse("briefs:comments", args=[pk])) + f"#{comment.anchor()}"
        )
    threads = threads_for(brief)
    sections = [
        {"key": spec.key, "title": spec.title, "threads": threads.get(spec.key, [])}
        for spec in S.SECTIONS
    ]
    context = {
        "brief": brief,
        "call": brief.call,
        "sections": sections,
        "can_comment": workflow.can_comment(brief, request.user),
    }
    return render(request, "review/comments.html", context)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target.split("#", 1)[0]
    return default


@require_http_methods(["POST"])
def resolve_comment(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    brief = brief_for(request.user, pk)
    comment = get_object_or_404(SectionComment, pk=comment_pk, brief=brief)
    if not workflow.can_comment(brief, request.user):
        raise PermissionDenied("You can read this brief's comments but not resolve them.")
    comment.brief = brief
    resolved = request.POST.get("resolved", "1") == "1"
    default = reverse("briefs:comments", args=[pk])
    try:
        root = workflow.resolve_comment(comment, by=request.user, resolved=resolved)
    except BriefError as exc:
        return _fail(request, exc, _back(request, default))
    messages.success(request, "Comment resolved." if resolved else "Comment reopened.")
    return redirect(_back(request, default) + f"#{root.anchor()}")


# --- Notifications -------------------------------------------------------------------------


@require_http_methods(["GET"])
def notifications(request: HttpRequest) -> HttpResponse:
    """The latest notifications, grouped by the call and brief they are about."""
    groups = notification_groups(request.user)
    unread = Notification.objects.for_user(request.user).unread().count()
    return render(request, "review/notifications.html", {"groups": groups, "unread": unread})


@require_http_methods(["POST"])
def notifications_read(request: HttpRequest) -> HttpResponse:
    N.mark_all_read(request.user)
    messages.success(request, "All notifications marked as read.")
    return redirect("briefs:notifications")


@require_http_methods(["POST"])
def notification_open(request: HttpRequest, notification_pk: int) -> HttpResponse:
    """Mark one notification read and follow its link (outsiders get 404)."""
    item = get_object_or_404(Notification.objects.for_user(request.user), pk=notification_pk)
    N.mark_read(item)
    if item.url.startswith("/") and not item.url.startswith("//"):
        return redirect(item.url)
    return redirect("briefs:notifications")


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Per kind: e-mail me, or not (in-app notifications always appear)."""
    if request.method == "POST":
        N.set_email_mutes(request.user, emailed=set(request.POST.getlist("email")))
        messages.success(request, "E-mail preferences saved.")
        return redirect("briefs:notification_settings")
    muted = set(EmailMute.objects.filter(user=request.user).values_list("kind", flat=True))
    kinds = [
        {"value": value, "label": label, "emailed": value not in muted}
        for value, label in NotificationKind.choices
    ]
    return render(request, "review/notification_settings.html", {"kinds": kinds})

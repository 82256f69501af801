from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import ratelimit
from accounts.access import account_for
from accounts.links import absolute_reverse
from accounts.models import Account, ImportState
from accounts.params import id_from
from callprep import calendar, feeds, health, services, visits
from callprep.access import call_for
from callprep.briefs.models import calls_with_brief
from callprep.briefs.rendering import safe_http_url
from callprep.forms import AssignEventsForm, CalendarUploadForm, CallForm
from callprep.models import (
    CREATED,
    UPDATED,
    CalendarFeed,
    CalendarImport,
    Call,
    CallStatus,
    WorkerHeartbeat,
)


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_detail = health.database_ok()
    body: dict = {"status": "ok" if db_ok else "error", "database": db_detail}
    body["broker"] = health.broker_state()
    if db_ok:
        beat = WorkerHeartbeat.objects.filter(name="worker").first()
        body["worker_last_seen"] = beat.beat_at.isoformat() if beat else None
    return JsonResponse(body, status=200 if db_ok else 503)


# --- Calls ----------------------------------------------------------------------------------


def require_rep_or_admin(user) -> None:
    if not (user.is_rep or user.is_admin_role):
        raise PermissionDenied("This page is for reps.")


def is_visiting_executive(user) -> bool:
    """Executives (who are not also reps) work from My visits, not My calls."""
    return user.is_executive and not (user.is_rep or user.is_admin_role)


@require_http_methods(["GET"])
def my_calls(request: HttpRequest) -> HttpResponse:
    """The rep's home: the next 14 days first, then later calls, then the recent past."""
    if is_visiting_executive(request.user):
        return redirect("callprep:my_visits")
    require_rep_or_admin(request.user)
    now = timezone.now()
    horizon = now + timedelta(days=14)
    calls = (
        Call.objects.visible_to(request.user)
        .attended_by(request.user)
        .select_related("account", "executive")
    )
    calls = calls_with_brief(calls)
    upcoming = calls.filter(ends_at__gte=now).exclude(status=CallStatus.CANCELLED)
    context = {
        "soon": upcoming.filter(starts_at__lt=horizon).order_by("starts_at"),
        "later": upcoming.filter(starts_at__gte=horizon).order_by("starts_at")[:50],
        "past": calls.filter(ends_at__lt=now, starts_at__gte=now - timedelta(days=30)).order_by(
            "-starts_at"
        ),
        "can_create": Account.objects.editable_by(request.user).exists(),
        "has_feed": CalendarFeed.objects.filter(user=request.user).exists(),
    }
    return render(request, "callprep/my_calls.html", context)


@require_http_methods(["GET"])
def my_visits(request: HttpRequest) -> HttpResponse:
    """The executive's home, next to the review queue: the upcoming calls they join."""
    user = request.user
    if not (user.is_executive or user.is_admin_role):
        raise PermissionDenied("My visits lists the calls an executive joins.")
    return render(request, "callprep/my_visits.html", {"visits": visits.visits(user)})


@require_http_methods(["GET", "POST"])
def call_create(request: HttpRequest) -> HttpResponse:
    require_rep_or_admin(request.user)
    account = None
    raw_account = request.GET.get("account", "")
    if raw_account:
        account_id = id_from(raw_account)
        if account_id is None:
            raise Http404("No such account.")
        account = account_for(request.user, account_id, write=True)
    call = Call(created_by=request.user)
    form = CallForm(request.POST or None, instance=call, user=request.user, account=account)
    if request.method == "POST" and form.is_valid():
        call = services.schedule_call(form, by=request.user)
        messages.success(request, f"Call “{call.title}” scheduled.")
        return redirect(call)
    return render(
        request, "callprep/call_form.html", {"form": form, "call": None, "account": account}
    )


@require_http_methods(["GET"])
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_for(request.user, pk)
    context = {
        "call": call,
        "attendees": call.contacts.order_by("name"),
        "can_edit": call.is_editable_by(request.user),
        # Only an http(s) address becomes a link, whatever the row holds.
        "meeting_link": safe_http_url(call.meeting_url),
    }
    return render(request, "callprep/call_detail.html", context)


@require_http_methods(["GET", "POST"])
def call_edit(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_for(request.user, pk, write=True)
    form = CallForm(request.POST or None, instance=call, user=request.user)
    if request.method == "POST" and form.is_valid():
        call = services.save_call(form)
        messages.success(request, "Call saved.")
        return redirect(call)
    return render(
        request, "callprep/call_form.html", {"form": form, "call": call, "account": call.account}
    )


def ics_response(body: bytes, filename: str, *, attachment: bool = True) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_http_methods(["GET"])
def call_ics(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_for(request.user, pk)
    call = Call.objects.select_related("account", "owner", "executive").get(pk=call.pk)
    body = calendar.calls_to_ics([call], name=call.title)
    return ics_response(body, f"call-{call.pk}.ics")


# --- Calendar import --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def calendar_import(request: HttpRequest) -> HttpResponse:
    """Upload an .ics file: it is read and checked here (a clear error and nothing kept when it
    is refused) and the worker imports its events; the import's page shows the progress."""
    require_rep_or_admin(request.user)
    form = CalendarUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        wait = ratelimit.hit("ics_import", request.user.pk)
        if wait:
            form.add_error(None, ratelimit.refusal("ics_import", wait))
            response = render(request, "callprep/calendar_import.html", {"form": form})
            return ratelimit.too_many(response, wait)
        upload = form.cleaned_data["file"]
        try:
            calendar.check_size(upload.size)
            text = calendar.decode_calendar(upload.read())
            events = calendar.parse_calendar(text)
        except calendar.CalendarError as exc:
            form.add_error("file", str(exc))
        else:
            pending = services.keep_calendar_upload(
                request.user, filename=upload.name, content=text, events=events
            )
            return redirect("callprep:calendar_assign", pk=pending.pk)
    return render(request, "callprep/calendar_import.html", {"form": form})


# The calls an upload created or updated, listed on its page; the rest are in My calls.
IMPORT_RESULT_SHOWN = 100
# Events to assign per page.
ASSIGN_PAGE_SIZE = 100


def assign_page(request: HttpRequest, pending: CalendarImport) -> dict:
    """One page of a pending import's events to assign, and their form: a query for the
    events of the page already in SalesPrep and one for the accounts, whatever the page size."""
    page = Paginator(services.pending_events(pending), ASSIGN_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    events = services.not_yet_calls(list(page))
    return {"page": page, "assign_form": AssignEventsForm(events=events, user=request.user)}


def import_result(request: HttpRequest, pending: CalendarImport) -> dict:
    shown = services.imported_calls(pending, request.user, limit=IMPORT_RESULT_SHOWN)
    labels = {CREATED: "New", UPDATED: "Updated"}
    return {
        "imported_shown": [(labels[action], call) for action, call in shown],
        "imported_hidden": max(0, len(pending.imported) - IMPORT_RESULT_SHOWN),
    }


@require_http_methods(["GET", "POST"])
def calendar_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """A calendar upload's page; only its uploader sees it. While the worker imports it, its
    progress (polled with htmx, with a Refresh link without JavaScript); then what it did and
    the events that matched no account, to assign a page at a time. Submitting a page creates
    the chosen calls; its other events are left out and the next page comes up."""
    require_rep_or_admin(request.user)
    pending = get_object_or_404(CalendarImport, pk=pk, user=request.user)
    context = {
        "pending": pending,
        "stalled": pending.is_stalled(),
        "batch_events": settings.ICS_IMPORT_BATCH_EVENTS,
    }
    if pending.state == ImportState.PREVIEW:
        return calendar_preview(request, pending, context)
    polled = request.method == "GET" and request.htmx and not request.htmx.history_restore_request
    if pending.state != ImportState.DONE or polled:
        return calendar_progress(request, pending, context)
    if request.method == "POST":
        # The events decided are those whose choice was posted, wherever they are in the list.
        posted = [e for e in services.pending_events(pending) if f"event_{e.n}" in request.POST]
        form = AssignEventsForm(
            request.POST, events=services.not_yet_calls(posted), user=request.user
        )
        if form.is_valid():
            created, left = services.assign_pending_events(
                pending, posted, form.choices(), user=request.user
            )
            messages.success(
                request,
                f"{len(created)} call(s) created from your calendar"
                + (f"; {left} meeting(s) still to assign." if left else "."),
            )
            if left:
                return redirect("callprep:calendar_assign", pk=pending.pk)
            return redirect("callprep:my_calls")
        context |= assign_page(request, pending) | {"assign_form": form}
    else:
        context |= assign_page(request, pending)
    context |= import_result(request, pending)
    return render(request, "callprep/calendar_import_result.html", context)


# Events per page of the preview, and the most attendees it offers as stakeholders at once.
PREVIEW_PAGE_SIZE = 100
OFFERED_PEOPLE_SHOWN = 300


def calendar_preview(request: HttpRequest, pending: CalendarImport, context: dict) -> HttpResponse:
    """The dry run of an upload: what importing each event would do, a page at a time, and the
    attendees it would be the first to name, to make stakeholders. "Import" hands it to the
    worker; "Cancel" drops it."""
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            services.drop_calendar_upload(pending)
            messages.info(request, f"{pending.filename} was not imported.")
            return redirect("callprep:calendar_import")
        try:
            services.queue_calendar_import(pending, people=request.POST.getlist("person"))
        except services.CalendarImportRunning as exc:
            messages.error(request, str(exc))
        return redirect("callprep:calendar_assign", pk=pending.pk)
    rows = [
        (calendar.event_from_json(data), step)
        for data, step in zip(pending.parsed, pending.plan, strict=True)
    ]
    page = Paginator(rows, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    people = list(services.offered_people(pending).items())
    context |= {
        "page": page,
        "people": people[:OFFERED_PEOPLE_SHOWN],
        "people_hidden": max(0, len(people) - OFFERED_PEOPLE_SHOWN),
        "counts": {
            action: pending.planned(action)
            for action in (calendar.CREATE, calendar.UPDATE, calendar.ASSIGN, calendar.SKIP)
        },
    }
    return render(request, "callprep/calendar_import_result.html", context)


def calendar_progress(request: HttpRequest, pending: CalendarImport, context: dict) -> HttpResponse:
    """The import under way, or stopped; posting goes on with one that stopped."""
    if request.method == "POST":
        try:
            services.requeue_calendar_import(pending)
        except services.CalendarImportRunning as exc:
            messages.error(request, str(exc))
        return redirect("callprep:calendar_assign", pk=pending.pk)
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "callprep/calendar_import_result.html#progress", context)
        if not pending.is_importing or context["stalled"]:
            response["HX-Refresh"] = "true"  # the whole page shows what happened
        return response
    return render(request, "callprep/calendar_import_result.html", context)


# --- Personal calendar feed -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    require_rep_or_admin(request.user)
    feed_url = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            feed, secret = feeds.issue_feed(request.user)
            feed_url = absolute_reverse("callprep:calendar_feed", feed.key, secret)
            messages.success(
                request, "A new feed address was created; the old one stopped working."
            )
        elif action == "revoke":
            feeds.revoke_feed(request.user)
            messages.success(request, "Your calendar feed is switched off.")
            return redirect("callprep:feed_settings")
        else:
            return HttpResponse("Unknown action.", status=400)
    feed = CalendarFeed.objects.filter(user=request.user).first()
    return render(request, "callprep/feed_settings.html", {"feed": feed, "feed_url": feed_url})


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def calendar_feed(request: HttpRequest, key: str, secret: str) -> HttpResponse:
    """A rep's upcoming calls as a calendar feed. The URL is the credential."""
    feed = feeds.feed_for(key, secret)
    if feed is None:
        raise Http404("No such feed.")
    calls = feeds.feed_calls(feed.user)
    body = calendar.calls_to_ics(calls, name=f"SalesPrep — {feed.user}")
    response = ics_response(body, "salesprep.ics", attachment=False)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from callprep import health
from callprep.models import WorkerHeartbeat


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


@require_http_methods(["GET"])
def my_calls(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_rep or request.user.is_admin_role):
        raise PermissionDenied
    return render(request, "callprep/my_calls.html")


@require_http_methods(["GET"])
def review_queue(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_executive or request.user.is_admin_role):
        raise PermissionDenied
    return render(request, "callprep/review_queue.html")


@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_manager or user.is_executive or user.is_admin_role):
        raise PermissionDenied
    return render(request, "callprep/dashboard.html")

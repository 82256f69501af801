from __future__ import annotations

from django.utils import timezone

from accounts import security
from accounts.models import AuditKind


class AuditRefusedAccessMiddleware:
    """Record refused accesses: every 403, and 404s met by signed-in users (probing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = response.status_code
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if status == 403 or (status == 404 and signed_in):
            security.record(
                AuditKind.ACCESS_REFUSED,
                request=request,
                user=user if signed_in else None,
                status=status,
            )
        return response


class ViewerTimeZoneMiddleware:
    """Show the request's times in the viewer's zone (``User.time_zone``, else ``TIME_ZONE``).

    Goes after the authentication middleware; the zone is deactivated after the response,
    so nothing leaks into the next request served by the same thread.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

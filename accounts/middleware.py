from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts import mfa, security
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


class MFARequiredMiddleware:
    """A user whose role requires two-step sign-in sets it up before anything else, and a
    session that skipped the code step (signed in before enrolment elsewhere) signs in again.

    Single sign-on sessions (``signin_method`` "sso") are left to the identity provider.
    """

    ALLOWED = {"mfa_setup", "logout"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.session.get("mfa_ok"):
            return None
        method = request.session.get(security.SIGNIN_METHOD)
        if method == "sso" or not mfa.is_required(user):
            return None
        if mfa.is_enrolled(user):
            if method == "password+mfa":
                request.session["mfa_ok"] = True
                return None
            logout(request)
            messages.info(request, "Please sign in again with a code from your authenticator app.")
            return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name in self.ALLOWED:
            return None
        messages.info(
            request,
            "Your role requires two-step sign-in. Set up an authenticator app to continue.",
        )
        return redirect("mfa_setup")

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts import security, throttle
from accounts.models import AuditKind


def client_ip(request: HttpRequest) -> str:
    # The throttle needs an address; the audit trail's helper may find none.
    return security.client_ip(request) or "0.0.0.0"  # noqa: S104


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view, refusing a username+address that failed too often."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        lock = throttle.lock_for(username, client_ip(request))
        if lock:
            security.record(AuditKind.LOGIN_LOCKED, request=request, username=username, status=429)
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                "Too many failed sign-in attempts. "
                f"Try again in {lock.minutes_left()} minute(s), or reset your password.",
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        throttle.record_failure(self.request.POST.get("username", ""), client_ip(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        throttle.record_success(form.get_user().get_username(), client_ip(self.request))
        return super().form_valid(form)


login_view = login_not_required(ThrottledLoginView.as_view())


@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the page their main role works from."""
    user = request.user
    if user.is_rep:
        return redirect("callprep:my_calls")
    if user.is_executive:
        return redirect("callprep:review_queue")
    if user.is_manager:
        return redirect("callprep:dashboard")
    if user.is_admin_role and user.is_staff:
        return redirect(reverse("admin:index"))
    messages.info(request, "Your account has no role yet. Ask an administrator to assign one.")
    return redirect("profile")


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    from django.shortcuts import render

    from accounts import services
    from accounts.forms import TimeZoneForm

    user = request.user
    form = TimeZoneForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        services.save_time_zone(form)
        messages.success(request, "Your time zone is saved.")
        return redirect("profile")
    status = 400 if form.errors else 200
    context = {"teams": user.teams.all(), "managed": user.managed_teams.all(), "form": form}
    return render(request, "accounts/profile.html", context, status=status)

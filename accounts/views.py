from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from accounts import mfa, ratelimit, security, signin, sso, throttle
from accounts.signin import ResetRequestForm, SignInForm


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view with the throttled form: a refused attempt answers 429."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    form_class = SignInForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_name"] = sso.provider_name() if sso.enabled() else ""
        return context

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.refusal:
            response.status_code = 429
            response["Retry-After"] = str(form.refusal.seconds)
        return response

    def form_valid(self, form):
        user = form.get_user()
        if mfa.is_enrolled(user):
            return signin.begin(self.request, user, self.get_redirect_url())
        response = super().form_valid(form)
        self.request.session[security.SIGNIN_METHOD] = "password"
        throttle.remember_browser(self.request, response, user.get_username())
        return response


class ResetRequestView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.retry_after:
            response = ratelimit.too_many(response, form.retry_after)
        return response


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password from the e-mailed link also lifts the sign-in throttle's locks."""

    def form_valid(self, form):
        response = super().form_valid(form)
        throttle.lift(form.user.get_username())
        return response


login_view = login_not_required(ThrottledLoginView.as_view())


@login_not_required
@require_http_methods(["GET", "POST"])
def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin's login page: our sign-in page (the throttle, the code step) does it.

    Signed in without access to the admin, the user is told so rather than sent in a loop.
    """
    next_url = request.GET.get("next") or reverse("admin:index")
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(signin.safe_next(request, next_url))
        raise PermissionDenied("Your account has no access to the administration.")
    return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")


def _sso_refused(request: HttpRequest, refusal: sso.Refused) -> HttpResponse:
    """The sign-in page, saying why single sign-on did not sign you in."""
    context = {
        "form": SignInForm(request),
        "next": "",
        "sso_name": sso.provider_name(),
        "sso_error": refusal.message,
    }
    response = render(request, "registration/login.html", context, status=refusal.status)
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


@login_not_required
@require_http_methods(["GET"])
def sso_start(request: HttpRequest) -> HttpResponse:
    """The "Sign in with …" button: off to the provider (404 while single sign-on is off)."""
    if not sso.enabled():
        raise Http404("Single sign-on is not configured.")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    try:
        return redirect(sso.authorization_url(request, request.GET.get("next", "")))
    except sso.Refused as refusal:
        return _sso_refused(request, refusal)


@login_not_required
@require_http_methods(["GET"])
def sso_callback(request: HttpRequest) -> HttpResponse:
    """Where the provider sends the browser back: signed in, or the sign-in page saying why not."""
    if not sso.enabled():
        raise Http404("Single sign-on is not configured.")
    try:
        user, next_url = sso.complete(request)
    except sso.Refused as refusal:
        return _sso_refused(request, refusal)
    response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
    throttle.remember_browser(request, response, sso.throttle_key(user.email))
    return response


@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the page their main role works from."""
    user = request.user
    if user.is_rep:
        return redirect("callprep:my_calls")
    if user.is_executive:
        return redirect("callprep:my_visits")
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
    context = {
        "teams": user.teams.all(),
        "managed": user.managed_teams.all(),
        "form": form,
        "mfa": {
            "enrolled": mfa.is_enrolled(user),
            "required": mfa.is_required(user),
            "codes_left": mfa.recovery_codes_left(user),
        },
    }
    return render(request, "accounts/profile.html", context, status=status)

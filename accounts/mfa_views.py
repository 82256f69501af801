"""Two-step sign-in pages: the code step of a password sign-in, setting up an authenticator
app, new recovery codes and turning two-step sign-in off (rules in accounts/mfa.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import mfa, security, signin, throttle
from accounts.models import AuditKind


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows now, or a recovery code.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user, pending = signin.pending_user(request)
    if user is None:
        messages.info(request, "Your sign-in took too long to finish. Please sign in again.")
        return redirect("login")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        refusal = throttle.check(request, user.get_username())
        if refusal:
            security.record(
                AuditKind.LOGIN_LOCKED, request=request, username=user.get_username(), status=429
            )
            form.add_error(None, refusal.message())
            status = 429
        else:
            how = mfa.verify(user, form.cleaned_data["code"])
            if how:
                throttle.succeeded(request, user.get_username())
                request.session.pop(signin.PENDING, None)
                signin.finish(request, user, method="password+mfa", backend=pending["backend"])
                if how == "recovery":
                    left = mfa.recovery_codes_left(user)
                    messages.warning(
                        request,
                        f"You signed in with a recovery code; {left} left. "
                        "Make new ones on your profile if you are running out.",
                    )
                response = redirect(pending["next"])
                throttle.remember_browser(request, response, user.get_username())
                return response
            throttle.failed(request, user.get_username())
            security.record(
                AuditKind.LOGIN_FAILED, request=request, username=user.get_username(), detail="mfa"
            )
            form.add_error(
                "code",
                "That code is not right. App codes change every 30 seconds; "
                "a recovery code works once.",
            )
    response = render(request, "registration/mfa_verify.html", {"form": form}, status=status)
    if status == 429:
        response["Retry-After"] = str(refusal.seconds)
    return response


@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST" and not mfa.has_pending_device(user):
        messages.info(request, "Scan the QR code with your app first, then enter its code.")
        return redirect("mfa_setup")
    device = mfa.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm(user, form.cleaned_data["code"])
        if codes is not None:
            request.session[security.SIGNIN_METHOD] = "password+mfa"
            security.record(AuditKind.MFA_ENABLED, request=request, user=user)
            return render(request, "accounts/mfa_codes.html", {"codes": codes, "new": True})
        form.add_error(
            "code", "That code is not right. Check the time on your phone and try again."
        )
    context = {
        "form": form,
        "qr_svg": mfa.setup_qr_svg(device),
        "secret": mfa.secret_text(device),
        "enrolled": mfa.is_enrolled(user),
        "required": mfa.is_required(user),
    }
    return render(request, "accounts/mfa_setup.html", context, status=400 if form.errors else 200)


def _proven(request: HttpRequest, form: CodeForm) -> bool:
    if form.is_valid() and mfa.verify(request.user, form.cleaned_data["code"]):
        return True
    if form.is_bound and not form.errors.get("code"):
        form.add_error("code", "That code is not right.")
    return False


@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not mfa.is_enrolled(request.user) or not _proven(request, form):
        messages.error(request, "New recovery codes need a current code from your app.")
        return redirect(reverse("profile") + "#two-step")
    codes = mfa.new_recovery_codes(request.user)
    return render(request, "accounts/mfa_codes.html", {"codes": codes, "new": False})


@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    user = request.user
    if mfa.is_required(user):
        messages.error(request, "Your role requires two-step sign-in, so it cannot be turned off.")
        return redirect(reverse("profile") + "#two-step")
    form = CodeForm(request.POST)
    if not _proven(request, form):
        messages.error(
            request, "Turning two-step sign-in off needs a current code or a recovery code."
        )
        return redirect(reverse("profile") + "#two-step")
    mfa.disable(user)
    security.record(AuditKind.MFA_DISABLED, request=request, user=user)
    messages.success(request, "Two-step sign-in is off. Your password alone now signs you in.")
    return redirect(reverse("profile") + "#two-step")

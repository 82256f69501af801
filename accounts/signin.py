"""The forms of the password doors: the sign-in page (the Django admin's login sends people
there too) and the password reset. Each goes through the one throttle (accounts/throttle.py)
before it checks anything, so no door is easier to guess through than another.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts import mail, ratelimit, security, sso, throttle
from accounts.models import AuditKind, User


class ThrottledMixin:
    """Refuse a throttled attempt before the password is checked; count failures."""

    refusal: throttle.Refusal | None = None

    def clean(self):
        username = self.data.get("username", "")
        self.refusal = throttle.check(self.request, username)
        if self.refusal:
            security.record(
                AuditKind.LOGIN_LOCKED,
                request=self.request,
                username=username,
                status=429,
                detail=self.refusal.rule,
            )
            raise forms.ValidationError(self.refusal.message(), code="throttled")
        if not sso.password_signin_allowed(username):
            # PASSWORD_SIGNIN=break-glass: the password is not even checked, so nothing counts.
            security.record(
                AuditKind.LOGIN_FAILED,
                request=self.request,
                username=username,
                detail="password sign-in is off for this user",
            )
            raise forms.ValidationError(sso.password_signin_off_message(), code="password_off")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.failed(self.request, username)
            raise
        if self.get_user() is not None:  # None when a field was left empty
            throttle.succeeded(self.request, self.get_user().get_username())
        return cleaned


class SignInForm(ThrottledMixin, AuthenticationForm):
    pass


class ResetRequestForm(PasswordResetForm):
    """Django's reset form, limited per address and per e-mail, sending from the worker.

    Too many requests from one address are refused with a message (that tells nothing about
    any account). Past the per-address limit for one e-mail the form says "sent" as always but
    sends nothing, so nobody can flood a mailbox. The mail itself is sent by the worker, which
    retries when the mail server is down; the request never waits for it.
    """

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.retry_after = 0

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        wait = ratelimit.hit("password_reset_address", throttle.client_address(self.request))
        if wait:
            self.retry_after = wait
            raise forms.ValidationError(
                "Too many password reset requests from your network address. "
                f"Try again in {ratelimit.wait_text(wait)}.",
                code="throttled",
            )
        return cleaned

    def save(self, **kwargs):
        """Queue the mail (Django's view passes its own options; the links come from
        ``SITE_URL`` and the templates are fixed, so none are needed)."""
        email = self.cleaned_data["email"]
        if ratelimit.hit("password_reset_email", email.strip().lower()):
            return
        from accounts.tasks import send_password_reset

        transaction.on_commit(lambda: send_password_reset.delay(email))


class _WorkerResetForm(PasswordResetForm):
    """Django's reset form as the worker uses it: the message goes out through
    ``accounts.mail.send`` (one-line subject), and a mail server error is raised, not only
    logged, so that the task retries it."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        html = None
        if html_email_template_name is not None:
            html = render_to_string(html_email_template_name, context)
        mail.send(
            subject=render_to_string(subject_template_name, context),
            to=[to_email],
            text=render_to_string(email_template_name, context),
            html=html,
        )


def send_reset_mail(email: str) -> None:
    """Send the reset link for ``email`` (from the worker), with Django's tokens and our
    templates, which link to ``SITE_URL``; a mail server error is raised for the task to retry."""
    form = _WorkerResetForm({"email": email})
    if not form.is_valid():
        return
    site = urlsplit(settings.SITE_URL)
    form.save(
        domain_override=site.netloc,
        use_https=site.scheme == "https",
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.txt",
        html_email_template_name="registration/password_reset_email.html",
    )


# --- The steps of a password sign-in ------------------------------------------------------

PENDING = "mfa_pending"


def safe_next(request: HttpRequest, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(settings.LOGIN_REDIRECT_URL)


def begin(request: HttpRequest, user, next_url: str | None) -> HttpResponse:
    """The password was right and the user has an authenticator: ask for a code next."""
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "next": safe_next(request, next_url),
        "at": time.time(),
    }
    return redirect("mfa_verify")


def pending_user(request: HttpRequest):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > settings.MFA_PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


def finish(request: HttpRequest, user, *, method: str, backend: str | None = None):
    """Sign ``user`` in; ``method`` is kept in the session for the MFA requirement."""
    auth_login(request, user, backend=backend)
    request.session[security.SIGNIN_METHOD] = method

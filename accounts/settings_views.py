"""The settings screen: data sources and security, for admins (others get 403, as on the other
pages of one role)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts import mfa, sitesettings
from accounts.settings_forms import DataSourcesForm, SecurityForm, SettingsForm
from accounts.visibility import is_admin

FORMS: dict[str, type[SettingsForm]] = {"sources": DataSourcesForm, "security": SecurityForm}


def require_admin(user) -> None:
    if not is_admin(user):
        raise PermissionDenied("The settings are for admins.")


def _page(request: HttpRequest, bound: SettingsForm | None = None) -> HttpResponse:
    forms = {name: cls() for name, cls in FORMS.items()}
    if bound is not None:
        forms[bound.section] = bound
    context = {
        "sources": forms["sources"],
        "security": forms["security"],
        "mfa_enrolled": mfa.is_enrolled(request.user),
    }
    return render(request, "accounts/settings.html", context, status=400 if bound else 200)


@require_http_methods(["GET"])
def settings_page(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    return _page(request)


def _save(request: HttpRequest, section: str) -> HttpResponse:
    require_admin(request.user)
    form = FORMS[section](request.POST)
    if not form.is_valid():
        return _page(request, form)
    changes = form.changes()
    sitesettings.change(changes, by=request.user, request=request)
    if changes:
        labels = ", ".join(sitesettings.SPECS[key].label for key in changes)
        messages.success(request, f"Saved: {labels}.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect(reverse("site_settings:page") + f"#{section}")


@require_http_methods(["POST"])
def save_sources(request: HttpRequest) -> HttpResponse:
    return _save(request, "sources")


@require_http_methods(["POST"])
def save_security(request: HttpRequest) -> HttpResponse:
    return _save(request, "security")

"""Navigation by role, built once per request for base.html."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from accounts.visibility import is_admin, may_review_anything


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    name: str


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[NavItem] = []
    if user.is_rep or user.is_admin_role:
        items.append(NavItem("My calls", reverse("callprep:my_calls"), "my_calls"))
    if user.is_rep or user.is_manager or user.is_executive or user.is_admin_role:
        items.append(NavItem("Accounts", reverse("accounts:list"), "accounts"))
    if user.is_executive:  # the executive's home, beside their review queue
        items.append(NavItem("My visits", reverse("callprep:my_visits"), "my_visits"))
    if may_review_anything(user):  # a manager reviews the calls no executive joins
        items.append(NavItem("Review queue", reverse("callprep:review_queue"), "review_queue"))
    if user.is_manager or user.is_executive or user.sees_all_teams:
        items.append(NavItem("Dashboard", reverse("callprep:dashboard"), "dashboard"))
    if is_admin(user):
        items.append(NavItem("Settings", reverse("site_settings:page"), "site_settings"))
    if user.is_admin_role and user.is_staff:
        items.append(NavItem("Admin", reverse("admin:index"), "admin"))
    match = getattr(request, "resolver_match", None)
    current = getattr(match, "url_name", None)
    if getattr(match, "namespace", "") in {"accounts", "site_settings"}:
        current = match.namespace
    elif current in {"call_create", "call_detail", "call_edit", "calendar_import", "feed_settings"}:
        current = "my_calls"
    return {"nav_items": items, "nav_current": current}

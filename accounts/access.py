"""One access helper per object type. Every view fetches its object through these.

Outsiders get 404 (the object's existence is not revealed); people who may read but not change
an object get 403 when they try to change it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Account, Contact, User


def account_for(user: User, pk: int, *, write: bool = False) -> Account:
    account = Account.objects.visible_to(user).select_related("owner", "team").filter(pk=pk).first()
    if account is None:
        raise Http404("No such account.")
    if write and not account.is_editable_by(user):
        raise PermissionDenied("You can read this account but not change it.")
    return account


def contact_for(user: User, pk: int, *, write: bool = False) -> Contact:
    contact = (
        Contact.objects.visible_to(user)
        .select_related("account", "account__owner", "reports_to")
        .filter(pk=pk)
        .first()
    )
    if contact is None:
        raise Http404("No such stakeholder.")
    if write and not contact.is_editable_by(user):
        raise PermissionDenied("You can read this stakeholder but not change it.")
    return contact


def require_account_creator(user: User) -> None:
    """Reps create accounts (for themselves); admins create them for anyone."""
    if not (user.is_rep or user.is_admin_role):
        raise PermissionDenied("Only reps and admins create accounts.")

"""The access helper for calls; every call view fetches its call through it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from callprep.models import Call


def call_for(user, pk: int, *, write: bool = False) -> Call:
    call = (
        Call.objects.visible_to(user)
        .select_related("account", "account__owner", "owner", "executive")
        .filter(pk=pk)
        .first()
    )
    if call is None:
        raise Http404("No such call.")
    if write and not call.is_editable_by(user):
        raise PermissionDenied("You can read this call but not change it.")
    return call

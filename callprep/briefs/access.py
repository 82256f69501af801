"""The access helpers for briefs and their sections. A brief follows its call's access:
the call's owner (and the account's owner, and admins) edit; the team, the executive joining
and the team's managers read; outsiders get 404; readers get 403 when they try to write."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from callprep.briefs.models import Brief, BriefSection
from callprep.briefs.sections import SectionKey

# A save replaces the text and its renderings: none of them is loaded.
SAVE_DEFERRED = ("text", "html", "claims", "focus")


def brief_for(user, pk: int, *, write: bool = False, review: bool = False) -> Brief:
    """The brief if the user may read it (else 404); ``write`` needs an editor and ``review``
    a reviewer (else 403)."""
    brief = (
        Brief.objects.visible_to(user)
        .select_related("call__account", "call__owner", "call__executive")
        .filter(pk=pk)
        .first()
    )
    if brief is None:
        raise Http404("No such brief.")
    if write and not brief.is_editable_by(user):
        raise PermissionDenied("You can read this brief but not change it.")
    if review and not brief.is_reviewable_by(user):
        raise PermissionDenied(
            "Only the executive joining the call (when none joins, a manager of the account's "
            "team) reviews this brief, and nobody reviews their own brief."
        )
    return brief


def section_for(
    user, brief_pk: int, key: str, *, write: bool = False, for_save: bool = False
) -> BriefSection:
    """One section with its brief, call and account, in a single query.

    ``for_save`` leaves out the stored text and its renderings, which a save replaces anyway
    (a 20,000-character section is ~60 kB of them). The brief's completeness is not counted
    here: a save reports it only when the section's state moved (``completeness_after_save``).

    A writer is checked on the loaded call (its owner, the account's owner, an admin — all of
    whom may read it), so the hot autosave path skips the visibility subquery; only a refused
    writer pays one more query, to tell a reader (403) from an outsider (404).
    """
    if key not in SectionKey.values:
        raise Http404("No such section.")
    section_qs = BriefSection.objects.filter(brief_id=brief_pk, key=key)
    if write and for_save:
        section_qs = section_qs.select_related("brief__call__account").defer(*SAVE_DEFERRED)
    else:
        section_qs = section_qs.select_related("brief__call__account", "updated_by")
    if not write:
        section_qs = section_qs.filter(brief__in=Brief.objects.visible_to(user).values("pk"))
    # One section per brief and key: no ORDER BY to build.
    section = next(iter(section_qs.order_by()[:1]), None)
    if section is None:
        raise Http404("No such section.")
    if write and not section.brief.is_editable_by(user):
        if not Brief.objects.visible_to(user).filter(pk=brief_pk).exists():
            raise Http404("No such section.")
        raise PermissionDenied("You can read this brief but not change it.")
    return section

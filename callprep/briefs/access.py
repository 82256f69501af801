"""The access helpers for briefs and their sections. A brief follows its call's access:
the call's owner (and the account's owner, and admins) edit; the team, the executive joining
and the team's managers read; outsiders get 404; readers get 403 when they try to write."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from callprep.briefs.models import Brief, BriefSection
from callprep.briefs.sections import SectionKey, SectionState
from callprep.compiled import CompiledQuery

SAVE_DEFERRED = ("text", "html", "claims", "focus")


def _section_for_save(brief_pk: int, key: str):
    # A save replaces the text, its renderings and the last editor: none of them is loaded.
    return (
        BriefSection.objects.filter(brief_id=brief_pk, key=key)
        .select_related("brief__call__account")
        .defer(*SAVE_DEFERRED)[:1]
    )


# The autosave's load, compiled once (callprep/compiled.py); the placeholders are never real.
SECTION_FOR_SAVE = CompiledQuery(_section_for_save, brief_pk=-8_675_309, key="(placeholder key)")


def brief_for(user, pk: int, *, write: bool = False, review: bool = False) -> Brief:
    """The brief if the user may read it (else 404); ``write`` needs an editor and ``review``
    a reviewer (else 403)."""
    brief = (
        Brief.objects.visible_to(user)
        .select_related("call__account", "call__owner", "call__executive", "account")
        .filter(pk=pk)
        .first()
    )
    if brief is None:
        raise Http404("No such brief.")
    if write and not brief.is_editable_by(user):
        raise PermissionDenied("You can read this brief but not change it.")
    if review and not brief.is_reviewable_by(user):
        raise PermissionDenied(
            "Only the executive joining the call (or any executive when none is named) "
            "reviews this brief, and nobody reviews their own brief."
        )
    return brief


def section_for(
    user, brief_pk: int, key: str, *, write: bool = False, for_save: bool = False
) -> BriefSection:
    """One section with its brief, call and account, in a single query.

    ``others_complete`` and ``required_total`` (from the counts the brief keeps) let a save
    report the brief's completeness without another query. ``for_save`` leaves out the stored
    text and its renderings, which a save replaces anyway (a 20,000-character section is
    ~60 kB of them).

    A writer is checked on the loaded call (its owner, the account's owner, an admin — all of
    whom may read it), so the hot autosave path skips the visibility subquery; only a refused
    writer pays one more query, to tell a reader (403) from an outsider (404).
    """
    if key not in SectionKey.values:
        raise Http404("No such section.")
    if write and for_save:
        section = SECTION_FOR_SAVE.first(brief_pk=brief_pk, key=key)
    else:
        section_qs = BriefSection.objects.filter(brief_id=brief_pk, key=key).select_related(
            "brief__call__account", "updated_by"
        )
        if not write:
            section_qs = section_qs.filter(brief__in=Brief.objects.visible_to(user).values("pk"))
        # One section per brief and key: no ORDER BY to build.
        section = next(iter(section_qs[:1]), None)
    if section is None:
        raise Http404("No such section.")
    if write and not section.brief.is_editable_by(user):
        if not Brief.objects.visible_to(user).filter(pk=brief_pk).exists():
            raise Http404("No such section.")
        raise PermissionDenied("You can read this brief but not change it.")
    brief = section.brief
    mine = int(section.required and section.state == SectionState.COMPLETE)
    section.others_complete = brief.sections_complete - mine
    section.required_total = brief.sections_required
    return section

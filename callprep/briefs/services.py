"""Changes to briefs: start one, save a section, restore a revision.

Each function guards the current state, writes inside ``transaction.atomic()`` and raises a
``BriefError`` whose message a user can read.

No lost text
------------
Every section has a ``version``. A save names the version it was based on and is applied with
a conditional ``UPDATE … WHERE version = base_version``: if someone saved first, no row
matches, the database keeps their text, and ``StaleVersion`` hands the stored text back so the
editor can show both side by side.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import BuyingProcess, BuyingRole, Contact, stakeholder_groups
from callprep.briefs import sections as S
from callprep.briefs.focus import customer_terms, measure
from callprep.briefs.models import (
    Brief,
    BriefSection,
    BriefStatus,
    RevisionKind,
    SectionRevision,
    section_plain_text,
)
from callprep.briefs.rendering import CITE_MARK, cited_ids, render_markdown
from callprep.dashboard.facts import sync_call_facts
from callprep.errors import BriefError

log = logging.getLogger(__name__)

# Autosaves by the same author within this window extend one revision instead of adding one.
REVISION_WINDOW = timedelta(minutes=10)
MAX_FIELD_CHARS = 5_000


class SectionTooLong(BriefError):
    pass


class ReopenNotConfirmed(BriefError):
    """A save to an approved brief that the writer did not confirm; nothing was saved."""


class StaleVersion(BriefError):
    """Someone saved the section after the version this save was based on."""

    def __init__(self, stored: BriefSection, *, text: str, fields: dict[str, Any]):
        who = stored.updated_by or "someone"
        when = (
            date_format(timezone.localtime(stored.updated_at), "H:i") if stored.updated_at else ""
        )
        super().__init__(
            f"{who} saved this section at {when} while you were editing. Your text was not "
            "saved: compare it with the stored text, merge, and save again."
        )
        self.stored = stored
        self.stored_text = stored.text
        self.stored_fields = stored.fields
        self.stored_version = stored.version
        self.text = text
        self.fields = fields


@dataclass(frozen=True)
class Computed:
    html: str
    claims: list
    focus: dict
    state: str
    words: int

    def as_update(self) -> dict[str, Any]:
        return {
            "html": self.html,
            "claims": self.claims,
            "focus": self.focus,
            "state": self.state,
            "words": self.words,
        }


def compute(
    spec: S.SectionSpec,
    text: str,
    fields: Mapping[str, Any],
    *,
    terms,
    has_executive: bool,
    citations: Mapping[int, Mapping] | None = None,
) -> Computed:
    """Everything derived from a section's text, done once at save time."""
    rendered = render_markdown(text, citations=citations, scope=spec.key)
    claims = list(rendered.claims)
    evaluation = S.evaluate(spec, text, fields, has_executive=has_executive)
    focus = measure(
        section_plain_text(spec, text, dict(fields)), terms=terms, words=evaluation.words
    )
    return Computed(
        html=rendered.html,
        claims=claims,
        focus=focus.as_dict(),
        state=evaluation.state,
        words=evaluation.words,
    )


def normalize_text(text: str) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def check_length(spec: S.SectionSpec, text: str, fields: Mapping[str, Any]) -> None:
    limit = S.MAX_SECTION_CHARS
    if len(text) > limit:
        raise SectionTooLong(
            f"This section is {len(text):,} characters long; the limit is {limit:,}. "
            f"Shorten it by {len(text) - limit:,} characters — long source material belongs "
            "in the evidence, cited from here."
        )
    for fspec in spec.fields:
        value = fields.get(fspec.key)
        size = S.fields_length({fspec.key: value})
        if size > MAX_FIELD_CHARS:
            raise SectionTooLong(
                f"{fspec.label} is {size:,} characters long; one field holds at most "
                f"{MAX_FIELD_CHARS:,}. Move the detail into the notes."
            )
    total = len(text) + S.fields_length(fields)
    if total > limit:
        raise SectionTooLong(
            f"This section is {total:,} characters long in all; the limit is {limit:,}."
        )


# --- Citations ----------------------------------------------------------------------------------


def citation_notes(citations) -> dict[str, dict | None]:
    """Footnote data of Citation snapshots, keyed by id as a string (the section's cache)."""
    return {str(c.pk): c.footnote_data() for c in citations}


def citations_for(brief_id: int, text: str, known: Mapping[str, Any] | None) -> tuple[dict, bool]:
    """The footnote data for the markers in ``text`` that belong to the brief, and whether
    ``known`` (the section's cache) had to grow. Costs one query only for markers the cache
    has not seen; markers that are not this brief's are cached as ``None``."""
    cache = dict(known or {})
    missing = [pk for pk in cited_ids(text) if str(pk) not in cache]
    if missing:
        from callprep.evidence.models import Citation

        found = citation_notes(Citation.objects.filter(brief_id=brief_id, pk__in=missing))
        for pk in missing:
            cache[str(pk)] = found.get(str(pk))
    return cache, bool(missing)


def remember_citation(brief_id: int, section_key: str, citation) -> None:
    """Put a new citation's footnote data in its section's cache (no new version), so the
    autosave that follows the editor's "Cite" needs no extra query."""
    with transaction.atomic():
        section = (
            BriefSection.objects.select_for_update()
            .filter(brief_id=brief_id, key=section_key)
            .only("pk", "citations")
            .first()
        )
        if section is None:
            return
        cache = dict(section.citations or {})
        cache[str(citation.pk)] = citation.footnote_data()
        BriefSection.objects.filter(pk=section.pk).update(citations=cache)


def append_to_section(
    section: BriefSection,
    addition: str,
    *,
    base_version: int | None,
    by,
    paragraph: bool = False,
    confirm_reopen: bool = False,
) -> SectionRevision:
    """Add ``addition`` to the end of the section's text as loaded (a new paragraph, or after a
    space) through ``save_section``: a stale ``base_version`` raises ``StaleVersion`` with the
    stored text plus the addition as "your text", so nothing is lost either way."""
    current = (section.text or "").rstrip()
    joiner = ("\n\n" if paragraph else " ") if current else ""
    return save_section(
        section,
        text=current + joiner + addition,
        base_version=section.version if base_version is None else base_version,
        by=by,
        confirm_reopen=confirm_reopen,
    )


def save_section(
    section: BriefSection,
    *,
    text: str,
    base_version: int,
    by,
    fields: Mapping[str, Any] | None = None,
    kind: str = RevisionKind.EDIT,
    restored_from: SectionRevision | None = None,
    note: str = "",
    confirm_reopen: bool = False,
) -> SectionRevision:
    """Save a section's text (and structured fields) if nobody saved since ``base_version``.

    An approved brief goes back to review on its first change (``workflow.reopen_after_edit``),
    so that save must say it means it: without ``confirm_reopen`` it raises
    ``ReopenNotConfirmed`` (with ``workflow.reopen_warning``) and changes nothing — also when
    the brief was approved after the editor loaded it.

    Raises ``StaleVersion`` (with the stored text) when the section moved on, and
    ``SectionTooLong`` over the limit. On success the section object is updated in place and
    the revision holding the new text is returned.

    In one transaction, in this order:
    1. ``UPDATE section … WHERE version = base_version`` — the only arbiter between writers:
       exactly one save can move a section from one version to the next;
    2. the revision write for the new version (an insert, or for an autosave by the same
       author within ``REVISION_WINDOW``, an update that extends their current revision);
    3. when the section's state changed, the brief's completeness moved: the call's facts
       for the dashboard (``sync_call_facts``).
    """
    with transaction.atomic():
        return _save_section(
            section,
            text=text,
            base_version=base_version,
            by=by,
            fields=fields,
            kind=kind,
            restored_from=restored_from,
            note=note,
            confirm_reopen=confirm_reopen,
        )


def _save_section(
    section: BriefSection,
    *,
    text: str,
    base_version: int,
    by,
    fields: Mapping[str, Any] | None,
    kind: str,
    restored_from: SectionRevision | None,
    note: str,
    confirm_reopen: bool,
) -> SectionRevision:
    spec = section.spec
    text = normalize_text(text)
    fields = dict(fields) if fields is not None else dict(section.fields or {})
    if spec.kind == S.SectionKind.PROSE:
        fields = {}
    check_length(spec, text, fields)
    brief = section.brief
    notes, grew = citations_for(brief.pk, text, section.citations) if "[^c" in text else ({}, False)
    computed = compute(
        spec,
        text,
        fields,
        terms=brief.customer_terms,
        has_executive=brief.call.executive_id is not None,
        citations={int(k): v for k, v in notes.items() if v},
    )
    now = timezone.now()
    new_version = base_version + 1
    extend = (
        kind == RevisionKind.EDIT
        and section.version == base_version
        and section.updated_by_id == by.pk
        and section.revision_id is not None
        and section.revision_started_at is not None
        and section.revision_started_at >= now - REVISION_WINDOW
    )
    revision_id = section.revision_id if extend else uuid.uuid4()
    started_at = section.revision_started_at if extend else now
    values = {
        "text": text,
        "fields": fields,
        **computed.as_update(),
        "version": new_version,
        "updated_at": now,
        "updated_by": by,
        "revision_id": revision_id,
        # Only plain edits are extended by later autosaves; a merge or restore stands alone.
        "revision_started_at": started_at if kind == RevisionKind.EDIT else None,
    }
    if grew:
        values["citations"] = notes
    won = BriefSection.objects.filter(pk=section.pk, version=base_version).update(**values)
    if not won:
        stored = BriefSection.objects.select_related("updated_by").get(pk=section.pk)
        if stored.text == text and (stored.fields or {}) == fields:
            # The same words were saved already (e.g. from another tab): nothing to merge.
            _copy_stored(section, stored)
            return SectionRevision.objects.filter(section=section).order_by("-version").first()
        raise StaleVersion(stored, text=text, fields=fields)
    # Checked with the section's row locked by the update above: an approval committed since
    # the editor loaded the brief is seen here, and the raise rolls the update back.
    approved = _is_approved_now(brief)
    if approved and not confirm_reopen:
        from callprep.workflow import reopen_warning

        raise ReopenNotConfirmed(
            f"{reopen_warning(brief)} Nothing was saved: confirm that you want to send it back "
            "to review, then save again."
        )
    revision = SectionRevision(
        pk=revision_id,
        section=section,
        version=new_version,
        kind=kind,
        text=text,
        fields=fields,
        author=by,
        created_at=started_at,
        saved_at=now,
        restored_from=restored_from,
        note=note[:300],
    )
    extended = extend and SectionRevision.objects.filter(pk=revision_id, section=section).update(
        version=new_version, text=text, fields=fields, saved_at=now
    )
    if not extended:
        revision.save(force_insert=True)
    state_changed = section.state != computed.state
    for name, value in values.items():
        setattr(section, name, value)
    if state_changed and section.required:
        sync_call_facts([brief.call_id])
    if approved:
        # An edit to an approved brief sends it back to review (callprep.workflow).
        from callprep.workflow import reopen_after_edit

        reopen_after_edit(brief, by=by, section=section)
    return revision


def _is_approved_now(brief: Brief) -> bool:
    """Whether the brief is approved as the database says now. Drafts pay nothing; a brief
    in review pays one query, to catch an approval since it was loaded."""
    if brief.status not in (BriefStatus.SUBMITTED, BriefStatus.APPROVED):
        return False
    return Brief.objects.filter(pk=brief.pk, status=BriefStatus.APPROVED).exists()


def _copy_stored(section: BriefSection, stored: BriefSection) -> None:
    for name in (
        "text",
        "fields",
        "html",
        "claims",
        "focus",
        "state",
        "words",
        "version",
        "updated_at",
        "updated_by",
        "revision_id",
        "revision_started_at",
        "citations",
    ):
        setattr(section, name, getattr(stored, name))


def restore_revision(
    revision: SectionRevision,
    *,
    by,
    base_version: int | None = None,
    confirm_reopen: bool = False,
) -> SectionRevision:
    """Make an old revision the current text again, as a new revision (nothing is dropped)."""
    section = BriefSection.objects.select_related("brief__call__account").get(
        pk=revision.section_id
    )
    if base_version is None:
        base_version = section.version
    if revision.version == section.version:
        raise BriefError("This revision is already the current text.")
    when = date_format(timezone.localtime(revision.saved_at), "j M Y, H:i")
    return save_section(
        section,
        text=revision.text,
        fields=revision.fields,
        base_version=base_version,
        by=by,
        kind=RevisionKind.RESTORE,
        restored_from=revision,
        note=f"Restored version {revision.version} by {revision.author or 'someone'} ({when})",
        confirm_reopen=confirm_reopen,
    )


# --- Starting a brief -------------------------------------------------------------------------


def start_brief(call, *, by, carry_forward: bool = False, collect_evidence: bool = True) -> Brief:
    """Create the brief of a call with its eight sections.

    A new brief is pre-filled from what we know: the account's buying process and
    stakeholders, the call's up-front contract. ``carry_forward`` starts from the account's
    latest brief instead: customer sections are copied with a note of where they came from;
    the call plan starts afresh from this call.

    On commit, a new brief starts an evidence collection for the account (trigger "brief"),
    unless one is already running; ``collect_evidence=False`` skips that (seeding, imports).
    """
    if Brief.objects.filter(call=call).exists():
        raise BriefError("This call already has a brief.")
    account = call.account
    source = None
    if carry_forward:
        source = Brief.objects.latest_for_account(account, exclude_call=call)
        if source is None:
            raise BriefError(f"{account} has no earlier brief to carry forward.")
    contacts = list(Contact.objects.filter(account=account).select_related("reports_to"))
    terms = customer_terms(account.name, [c.name for c in contacts])
    has_executive = call.executive_id is not None
    previous = {s.key: s for s in source.sections.all()} if source else {}
    origin = ""
    if source:
        day = date_format(timezone.localtime(source.call.starts_at), "j M Y")
        origin = f"Carried forward from the brief for “{source.call.title}” ({day})."
    now = timezone.now()
    try:
        with transaction.atomic():
            brief = Brief.objects.create(
                call=call,
                created_by=by,
                carried_from=source,
                customer_terms=terms,
            )
            carried = {
                key: section.text
                for key, section in previous.items()
                if S.spec_for(key).carries_forward
            }
            renumber, notes = _carry_citations(source, brief, carried) if source else ({}, {})
            for position, spec in enumerate(S.SECTIONS):
                kind, note = RevisionKind.START, ""
                if spec.key in previous and spec.carries_forward:
                    text, fields = previous[spec.key].text, dict(previous[spec.key].fields)
                    text = _renumber(text, renumber)
                    kind, note = RevisionKind.CARRIED_FORWARD, origin
                else:
                    text, fields = prefill(spec, call, contacts)
                cache = {str(pk): notes[pk] for pk in cited_ids(text) if pk in notes}
                computed = compute(
                    spec,
                    text,
                    fields,
                    terms=terms,
                    has_executive=has_executive,
                    citations={int(k): v for k, v in cache.items()},
                )
                has_content = computed.state != S.SectionState.EMPTY or bool(text)
                section = BriefSection.objects.create(
                    brief=brief,
                    key=spec.key,
                    position=position,
                    required=spec.required,
                    text=text,
                    fields=fields,
                    origin_note=note,
                    citations=cache,
                    updated_at=now if has_content else None,
                    updated_by=by if has_content else None,
                    revision_id=uuid.uuid4() if has_content else None,
                    **computed.as_update(),
                )
                if has_content:
                    SectionRevision.objects.create(
                        pk=section.revision_id,
                        section=section,
                        version=1,
                        kind=kind,
                        text=text,
                        fields=fields,
                        author=by,
                        created_at=now,
                        saved_at=now,
                        note=note,
                    )
            sync_call_facts([call.pk])
            # A new brief brings fresh evidence (unless a collection is already running).
            if collect_evidence:
                transaction.on_commit(lambda: _collect_evidence(brief, by))
    except IntegrityError:
        raise BriefError("This call already has a brief.") from None
    return brief


def _collect_evidence(brief: Brief, by) -> None:
    from callprep.evidence import collect
    from callprep.evidence.models import Trigger

    try:
        collect.start_collection(brief.account, trigger=Trigger.BRIEF, by=by)
    except Exception:  # evidence never blocks a brief; the beat job collects later
        log.exception("could not start evidence collection for brief %s", brief.pk)


def _carry_citations(source: Brief, brief: Brief, texts: Mapping[str, str]):
    """Copy the earlier brief's citations that the carried text cites into the new brief (a
    marker resolves only within its own brief). Returns ({old id: new id}, {new id: note})."""
    from callprep.evidence.models import Citation

    ids = {pk for text in texts.values() for pk in cited_ids(text)}
    if not ids:
        return {}, {}
    renumber, notes = {}, {}
    for citation in Citation.objects.filter(brief_id=source.pk, pk__in=ids).order_by("pk"):
        old = citation.pk
        citation.pk = None
        citation.brief_id = brief.pk
        citation.save(force_insert=True)
        renumber[old] = citation.pk
        notes[citation.pk] = citation.footnote_data()
    return renumber, notes


def _renumber(text: str, renumber: Mapping[int, int]) -> str:
    if not renumber:
        return text
    return CITE_MARK.sub(
        lambda m: f"[^c{renumber[int(m.group(1))]}]" if int(m.group(1)) in renumber else m[0],
        text,
    )


def prefill(spec: S.SectionSpec, call, contacts: list[Contact]) -> tuple[str, dict[str, Any]]:
    if spec.key == S.SectionKey.BUYING_PROCESS:
        return buying_process_text(call.account, contacts), {}
    if spec.key == S.SectionKey.CALL_PLAN:
        return "", call_plan_fields(call)
    if spec.key == S.SectionKey.DEAL_CHECK:
        return "", deal_check_fields(contacts)
    if spec.kind != S.SectionKind.PROSE:
        return "", S.clean_fields(spec, {})
    return "", {}


def buying_process_text(account, contacts: list[Contact]) -> str:
    """Markdown for "their buying process" from the account's records."""
    parts: list[str] = []
    process = BuyingProcess.objects.filter(account=account).first()
    if process is not None and not process.is_empty():
        parts.append("### How they buy")
        for name in BuyingProcess.TEXT_FIELDS:
            value = getattr(process, name).strip()
            if value:
                label = BuyingProcess._meta.get_field(name).verbose_name
                parts.append(f"- **{label[:1].upper() + label[1:]}:** {_one_line(value)}")
    if contacts:
        parts.append("### Buying committee")
        for _value, label, people in stakeholder_groups(contacts):
            for person in people:
                bits = [f"**{person.name}**"]
                if person.title:
                    bits.append(person.title)
                bits.append(label.lower())
                bits.append(f"influence {person.get_influence_display().lower()}")
                bits.append(person.get_stance_display().lower())
                line = ", ".join(bits)
                if person.reports_to_id and person.reports_to:
                    line += f"; reports to {person.reports_to.name}"
                if person.cares_about.strip():
                    line += f" — cares about: {_one_line(person.cares_about)}"
                parts.append(f"- {line}")
    return "\n".join(parts)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def call_plan_fields(call) -> dict[str, Any]:
    spec = S.spec_for(S.SectionKey.CALL_PLAN)
    return S.clean_fields(
        spec,
        {
            "f-objectives": call.purpose,
            "f-agreed_outcome": call.agreed_outcome,
            "f-agenda": call.agenda,
        },
    )


def deal_check_fields(contacts: list[Contact]) -> dict[str, Any]:
    """Name the economic buyer and champion from the stakeholders; confidence is left to you."""
    spec = S.spec_for(S.SectionKey.DEAL_CHECK)
    data: dict[str, Any] = {}
    for role, key in (
        (BuyingRole.ECONOMIC_BUYER, "economic_buyer"),
        (BuyingRole.CHAMPION, "champion"),
    ):
        names = [
            f"{c.name} ({c.title})" if c.title else c.name
            for c in contacts
            if c.buying_role == role
        ]
        if names:
            data[f"f-{key}"] = ", ".join(names)
    return S.clean_fields(spec, data)


def reevaluate_sections(brief: Brief) -> list[tuple[BriefSection, S.Evaluation]]:
    """Evaluate every section of the brief against its call as it is now (the completeness
    rule, ``BriefSection.evaluation``) and store any state that changed, with the call's facts.

    Called when an input of the rule other than the section's own text changed (the call's
    executive), and before a submission, so the stored state and the submit check agree.
    Returns each section with its evaluation, in order.
    """
    sections = list(BriefSection.objects.filter(brief=brief).order_by("position"))
    results = []
    changed = []
    for section in sections:
        section.brief = brief
        evaluation = section.evaluation()
        if evaluation.state != section.state:
            section.state = evaluation.state
            changed.append(section)
        results.append((section, evaluation))
    if changed:
        with transaction.atomic():
            BriefSection.objects.bulk_update(changed, ["state"])
            sync_call_facts([brief.call_id])
    return results


def refresh_customer_terms(brief: Brief) -> None:
    """Keep the focus meter's customer names in step with the account's stakeholders."""
    names = Contact.objects.filter(account=brief.account_id).values_list("name", flat=True)
    terms = customer_terms(brief.account.name, list(names))
    if terms != brief.customer_terms:
        Brief.objects.filter(pk=brief.pk).update(customer_terms=terms)
        brief.customer_terms = terms

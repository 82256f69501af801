"""Writes of the evidence panel: citing a piece of evidence, or the numbers behind a talking
point, into a brief.

Each function writes inside ``transaction.atomic()`` and raises ``BriefError`` with a message a
user can read; the views only check access and answer.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from callprep.briefs.models import Brief
from callprep.briefs.services import remember_citation
from callprep.errors import BriefError

from .insights import Insight
from .models import Citation, Evidence


def cite_evidence(
    evidence: Evidence, *, by: User, brief: Brief | None = None, section_key: str = ""
) -> Citation:
    """Keep a snapshot of the evidence as it is now, so the footnote survives a refresh; in a
    brief, the section's footnote cache learns the citation in the same transaction."""
    if brief is not None and brief.account_id != evidence.account_id:
        raise BriefError("That evidence is about another account; cite it in that account's brief.")
    with transaction.atomic():
        citation = Citation.objects.create(
            account_id=evidence.account_id,
            evidence=evidence,
            brief_id=brief.pk if brief is not None else None,
            section_key=section_key[:40],
            label=evidence.label,
            value=evidence.value,
            unit=evidence.unit,
            value_text=evidence.value_text if evidence.value is not None else "",
            source=evidence.source,
            source_name=evidence.source_name,
            period_start=evidence.period_start,
            period_end=evidence.period_end,
            url=evidence.url,
            retrieved_at=evidence.retrieved_at,
            excerpt=evidence.excerpt,
            cited_by=by,
        )
        if brief is not None:
            remember_citation(brief.pk, section_key, citation)
    return citation


def cite_insight(insight: Insight, *, by: User, brief: Brief, section_key: str) -> list[Citation]:
    """Cite each piece of evidence behind a talking point once, in the order it is named; a
    number whose evidence is gone (or another account's) is left uncited."""
    ids = list(dict.fromkeys(n.evidence_id for n in insight.numbers if n.evidence_id))
    with transaction.atomic():
        by_pk = Evidence.objects.filter(account_id=brief.account_id).in_bulk(ids)
        return [
            cite_evidence(by_pk[pk], by=by, brief=brief, section_key=section_key)
            for pk in ids
            if pk in by_pk
        ]

"""Search across what a user may see: accounts, stakeholders, calls and briefs.

``search(user, q)`` is the one entry point (the results page and its tests call it). Every
queryset starts from the kind's visibility queryset (``visible_to``), so a search can never
reach further than the pages it links to; this module only adds a text condition on top.

How text is matched, per database:

- **PostgreSQL**: full-text search (``SearchVector``/``SearchQuery`` with the ``simple``
  configuration, so names are not stemmed as English words) over names and the longer texts,
  with a trigram fallback (``word_similarity``, pg_trgm) over the short name-like fields, so a
  partial or short word ("acm", "fiction") still finds "Acme Fictional Corp". Results are
  ordered by the better of the two scores. Without pg_trgm (a database where the extension could
  not be created, see accounts/migrations/0004) the fallback is a plain "contains".
- **SQLite** (the embedded default): a plain case-insensitive "contains" on the same fields.

The work is bounded: the query is stripped and at most ``MAX_QUERY_LENGTH`` characters, and
each kind returns at most ``limit_per_kind`` rows, in one query per kind.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import FloatField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest

from accounts.models import Account, Contact
from callprep.briefs.models import Brief, BriefSection
from callprep.briefs.sections import SectionKey
from callprep.models import Call

MAX_QUERY_LENGTH = 100
DEFAULT_LIMIT = 10
# word_similarity of the query and a field at or above which a partial word counts as a match
# ("acm" in "Acme Fictional Corp" scores 0.75; an unrelated word of the same length about 0).
TRIGRAM_THRESHOLD = 0.5
CONFIG = "simple"


@dataclass(frozen=True)
class Kind:
    """One kind of object: where to look, which fields are short (names) and which are long."""

    key: str
    label: str
    names: tuple[str, ...]  # short fields: full text and trigram (or contains)
    texts: tuple[str, ...] = ()  # long fields: full text only (contains on SQLite)


ACCOUNTS = Kind("accounts", "Accounts", ("name", "domain", "ticker", "hq_city"), ("description",))
STAKEHOLDERS = Kind(
    "stakeholders", "Stakeholders", ("name", "title", "email"), ("cares_about", "notes")
)
CALLS = Kind("calls", "Calls", ("title", "location"), ("purpose", "agenda", "agreed_outcome"))
# A brief is found by its call's title or by the text of any of its sections.
BRIEFS = Kind("briefs", "Briefs", ("call__title",))
KINDS = (ACCOUNTS, STAKEHOLDERS, CALLS, BRIEFS)


@dataclass
class Group:
    kind: Kind
    items: list
    more: bool  # there were more than the limit shown

    @property
    def key(self) -> str:
        return self.kind.key

    @property
    def label(self) -> str:
        return self.kind.label


@dataclass
class SearchResults:
    query: str
    problem: str = ""  # why nothing was searched: empty, or too long
    groups: list[Group] = field(default_factory=list)

    @property
    def searched(self) -> bool:
        return not self.problem and bool(self.query)

    @property
    def total(self) -> int:
        return sum(len(g.items) for g in self.groups)


def query_problem(q: str) -> str:
    """Why the (stripped) query cannot be searched, or "" when it can."""
    if not q:
        return (
            "Type a name, a word or part of one to search accounts, stakeholders, calls and briefs."
        )
    if len(q) > MAX_QUERY_LENGTH:
        return (
            f"Search for at most {MAX_QUERY_LENGTH} characters; this search has {len(q)}. "
            "Try a name or a few words."
        )
    return ""


def clean_query(q: str | None) -> str:
    """The query as searched: control characters (which PostgreSQL refuses in text, NUL among
    them) become spaces, and surrounding spaces go."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in q or "").strip()


def search(user, q: str, *, limit_per_kind: int = DEFAULT_LIMIT) -> SearchResults:
    """What ``user`` may see that matches ``q``, grouped by kind, at most ``limit_per_kind`` each
    (a group is left out when nothing of its kind matches)."""
    q = clean_query(q)
    problem = query_problem(q)
    results = SearchResults(query=q, problem=problem)
    if problem:
        return results
    match = matcher()
    for kind, queryset in (
        (ACCOUNTS, Account.objects.visible_to(user).select_related("owner")),
        (STAKEHOLDERS, Contact.objects.visible_to(user).select_related("account")),
        (CALLS, Call.objects.visible_to(user).select_related("account", "brief")),
        (BRIEFS, Brief.objects.visible_to(user).select_related("call__account")),
    ):
        extra = brief_sections_condition(q) if kind is BRIEFS else None
        rows = list(match(queryset, kind, q, extra)[: limit_per_kind + 1])
        if kind is BRIEFS:
            for brief in rows:
                brief.matched_section_label = section_label(brief.matched_section)
        if rows:
            results.groups.append(Group(kind, rows[:limit_per_kind], len(rows) > limit_per_kind))
    return results


def section_label(key: str | None) -> str:
    return SectionKey(key).label if key in SectionKey.values else ""


# --- Matching ------------------------------------------------------------------------------------


def matcher():
    if connection.vendor == "postgresql":
        return match_postgresql if has_trigram() else match_postgresql_without_trigram
    return match_contains


_HAS_TRIGRAM: dict[tuple[str, str], bool] = {}


def has_trigram() -> bool:
    """Whether pg_trgm is installed in this database (asked once per process and database)."""
    key = (connection.alias, str(connection.settings_dict.get("NAME")))
    if key not in _HAS_TRIGRAM:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _HAS_TRIGRAM[key] = cursor.fetchone() is not None
    return _HAS_TRIGRAM[key]


def brief_sections_condition(q: str) -> dict:
    """For briefs: the first section whose text matches (a subquery), annotated as
    ``matched_section`` so the page can say where the words are."""
    sections = BriefSection.objects.filter(brief=OuterRef("pk"))
    if connection.vendor == "postgresql":
        sections = sections.annotate(doc=SearchVector("text", config=CONFIG)).filter(
            doc=SearchQuery(q, config=CONFIG, search_type="websearch")
        )
    else:
        sections = sections.filter(text__icontains=q)
    return {"matched_section": Subquery(sections.order_by("position").values("key")[:1])}


def _ordering(kind: Kind) -> tuple[str, ...]:
    return {"calls": ("-starts_at", "pk"), "briefs": ("-call__starts_at", "pk")}.get(
        kind.key, ("name", "pk")
    )


def match_contains(queryset: QuerySet, kind: Kind, q: str, extra: dict | None) -> QuerySet:
    condition = reduce(or_, (Q(**{f"{f}__icontains": q}) for f in kind.names + kind.texts))
    if extra:
        queryset = queryset.annotate(**extra)
        condition |= Q(matched_section__isnull=False)
    return queryset.filter(condition).order_by(*_ordering(kind))


def _full_text(queryset: QuerySet, kind: Kind, q: str, extra: dict | None) -> QuerySet:
    query = SearchQuery(q, config=CONFIG, search_type="websearch")
    vector = SearchVector(*(kind.names + kind.texts), config=CONFIG)
    queryset = queryset.annotate(doc=vector, rank=SearchRank(vector, query))
    if extra:
        queryset = queryset.annotate(**extra)
    return queryset


def match_postgresql(queryset: QuerySet, kind: Kind, q: str, extra: dict | None) -> QuerySet:
    queryset = _full_text(queryset, kind, q, extra)
    similarities = [TrigramWordSimilarity(q, f) for f in kind.names]
    similarity = similarities[0] if len(similarities) == 1 else Greatest(*similarities)
    queryset = queryset.annotate(similarity=similarity)
    condition = Q(doc=SearchQuery(q, config=CONFIG, search_type="websearch")) | Q(
        similarity__gte=TRIGRAM_THRESHOLD
    )
    if extra:
        condition |= Q(matched_section__isnull=False)
    score = Greatest("rank", "similarity", output_field=FloatField())
    return queryset.filter(condition).annotate(score=score).order_by("-score", *_ordering(kind))


def match_postgresql_without_trigram(
    queryset: QuerySet, kind: Kind, q: str, extra: dict | None
) -> QuerySet:
    queryset = _full_text(queryset, kind, q, extra)
    condition = Q(doc=SearchQuery(q, config=CONFIG, search_type="websearch")) | reduce(
        or_, (Q(**{f"{f}__icontains": q}) for f in kind.names)
    )
    if extra:
        condition |= Q(matched_section__isnull=False)
    return queryset.filter(condition).order_by("-rank", *_ordering(kind))

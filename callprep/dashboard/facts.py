"""The one write path of the dashboard's read model (``CallFact``, one row per call).

``sync_call_facts(call_ids)`` recomputes the rows of some calls from their tables and writes
them; the service functions that change a fact's input call it inside their transaction:

- a call created, moved, cancelled, given another executive or owner (callprep/services.py);
- a brief started, a workflow step (callprep/briefs/services.py, callprep/workflow.py);
- a section whose state changed (the brief's completeness counts);
- an executive's read of a brief (``mark_briefed``);
- an account moved to another team (``sync_account_facts``).

A deleted call takes its row with it (the row's key is a foreign key that cascades).

``reconcile_call_facts()`` walks every call in batches, compares the stored rows with what the
tables say and writes only the differences: it repairs what a bulk write or a raw SQL change
went around, and a second run finds nothing to do. Celery beat runs it every three hours
(``dashboard-reconcile-call-facts``).

On PostgreSQL, a sync first locks the calls' rows (``SELECT … FOR UPDATE``) and reads the
inputs in a later statement: two transactions changing one call (an approval and a reschedule)
take turns, and the second reads what the first committed, so the row keeps both changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from callprep.briefs.models import NO_BRIEF, required_sections
from callprep.dashboard.models import FACT_COLUMNS, CallFact
from callprep.models import Call
from callprep.review.models import ExecutiveRead

BATCH = 5_000
# Model field names of the columns (``team`` is ``team_id`` on the model instance).
FIELDS = tuple(f"{c}_id" if c in ("team", "owner", "executive") else c for c in FACT_COLUMNS)


def expected_rows(calls) -> list[CallFact]:
    """The facts of ``calls`` (a queryset) as their tables say now, one query."""
    read = ExecutiveRead.objects.filter(brief__call=OuterRef("pk"), user=OuterRef("executive"))
    values = (
        calls.order_by()
        .annotate(
            f_brief_status=Coalesce(F("brief__status"), Value(NO_BRIEF)),
            f_read_at=Subquery(read.values("read_at")[:1]),
            f_required=required_sections("brief__call", complete=False),
            f_complete=required_sections("brief__call", complete=True),
        )
        .values_list(
            "pk",
            "account__team_id",
            "owner_id",
            "executive_id",
            "kind",
            "status",
            "starts_at",
            "time_zone",
            "f_brief_status",
            "brief__approved_at",
            "f_read_at",
            "f_required",
            "f_complete",
        )
    )
    return [CallFact(call_id=row[0], **dict(zip(FIELDS, row[1:], strict=True))) for row in values]


def _write(rows: list[CallFact]) -> None:
    if rows:
        CallFact.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["call"], update_fields=list(FIELDS)
        )


def sync_call_facts(call_ids: Iterable[int]) -> int:
    """Recompute and write the facts of these calls; returns how many rows were written."""
    ids = sorted({int(pk) for pk in call_ids if pk is not None})
    if not ids:
        return 0
    with transaction.atomic():
        # Take the calls' locks first; the inputs are read in the next statement, after any
        # transaction holding them has committed.
        list(Call.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        rows = expected_rows(Call.objects.filter(pk__in=ids))
        _write(rows)
    return len(rows)


def sync_account_facts(account_id: int) -> int:
    """After an account's team changed: the facts of its calls."""
    return sync_call_facts(Call.objects.filter(account_id=account_id).values_list("pk", flat=True))


def _differs(stored: CallFact | None, expected: CallFact) -> bool:
    if stored is None:
        return True
    return any(getattr(stored, name) != getattr(expected, name) for name in FIELDS)


def reconcile_call_facts(batch: int = BATCH) -> dict[str, int]:
    """Make every call's facts equal to its tables; idempotent. Returns the counts of rows
    checked and written."""
    checked = written = 0
    last = 0
    while True:
        ids = list(
            Call.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        last = ids[-1]
        expected = expected_rows(Call.objects.filter(pk__in=ids))
        stored = CallFact.objects.in_bulk(ids)
        changed = [row for row in expected if _differs(stored.get(row.call_id), row)]
        if changed:
            with transaction.atomic():
                locked = [row.call_id for row in changed]
                list(Call.objects.select_for_update().filter(pk__in=locked).values("pk"))
                # Read again under the locks: a change committed since the first read wins.
                fresh = expected_rows(Call.objects.filter(pk__in=locked))
                _write(fresh)
            written += len(changed)
        checked += len(ids)
    return {"checked": checked, "written": written}

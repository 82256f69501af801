"""The prep dashboard's read model: one narrow row per call with everything its numbers read.

A call's facts come from five tables: the call (owner, executive, kind, status, start, time
zone), its account (the team), its brief (status, approval time), the brief's sections
(required and complete counts) and the executive's read of that brief. Joining them for every
call of an organisation on every page view cost most of the dashboard's time (organisation p95
417 ms on 200,000 calls, against 120 ms from these rows); here they are one row, read by an
index that covers every column (no join, no heap visit).

One Python write path keeps the rows: ``callprep.dashboard.facts.sync_call_facts``, called by
the service functions that change an input (calls, briefs, workflow, executive reads, an
account's team), inside their transaction. ``reconcile_call_facts`` (a periodic task) repairs
anything a bulk write went around, and changes nothing when the rows are right.
``callprep.dashboard.metrics`` defines every measure over these rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["FACT_COLUMNS", "CallFact"]

# Every column but the key: the covering indexes include them all.
FACT_COLUMNS = (
    "team",
    "owner",
    "executive",
    "kind",
    "status",
    "starts_at",
    "time_zone",
    "brief_status",
    "approved_at",
    "executive_read_at",
    "sections_required",
    "sections_complete",
)


def _reference(model, **extra):
    """A copy of a reference, kept by the facts' write path: no constraint, index or cascade."""
    return models.ForeignKey(
        model, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, **extra
    )


class CallFact(models.Model):
    """What the dashboard needs to know of one call (written only by callprep.dashboard.facts)."""

    call = models.OneToOneField(
        "callprep.Call", primary_key=True, on_delete=models.CASCADE, related_name="fact"
    )
    team = _reference("accounts.Team", null=True, related_name="+")  # the account's team
    owner = _reference(settings.AUTH_USER_MODEL, related_name="+")
    executive = _reference(settings.AUTH_USER_MODEL, null=True, related_name="+")
    kind = models.CharField(max_length=20)
    status = models.CharField(max_length=10)
    starts_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    brief_status = models.CharField(max_length=20, blank=True)  # "": the call has no brief
    approved_at = models.DateTimeField(null=True)
    # When the executive named on the call marked its brief read (NULL: not read, or none).
    executive_read_at = models.DateTimeField(null=True)
    sections_required = models.PositiveSmallIntegerField(default=0)
    sections_complete = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            # A manager's teams over a period; the whole organisation over a period.
            models.Index(
                fields=["team", "starts_at"],
                include=[c for c in FACT_COLUMNS if c not in ("team", "starts_at")],
                name="callfact_team_start_idx",
            ),
            models.Index(
                fields=["starts_at"],
                include=[c for c in FACT_COLUMNS if c != "starts_at"],
                name="callfact_start_idx",
            ),
            models.Index(fields=["owner", "starts_at"], name="callfact_owner_start_idx"),
        ]

    def __str__(self) -> str:
        return f"Facts of call {self.call_id}"

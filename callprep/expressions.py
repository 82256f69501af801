"""Small database expressions the rules are written with (no rule lives here)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import DurationField, Func, Value


class Hours(Func):
    """A duration of whole hours. On PostgreSQL the literal ``INTERVAL 'N hours'``: a bound
    ``timedelta`` arrives as ``'2 days'``, and ``timestamptz - <days>`` is a time-zone
    computation for every row, while ``timestamptz - <hours>`` is plain arithmetic. Elsewhere
    the ``timedelta``."""

    arity = 1
    output_field = DurationField()

    def __init__(self, hours: int, **extra):
        self.hours = int(hours)
        super().__init__(Value(timedelta(hours=self.hours)), **extra)

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra):
        return f"INTERVAL '{self.hours} hours'", []

"""Every number on the prep dashboard, computed in SQL with conditional aggregates.

Each measure is one ``Q`` over the calls' facts (``CallFact``, one narrow row per call kept in
step with the call, its account, its brief and the executive's read by one Python write path,
callprep/dashboard/facts.py): the dashboard counts it with ``Count(ROW, filter=q)`` and the
drill-down lists the calls whose facts match ``q``, so a number and the list behind it always
agree. The rules themselves (due time, on time, prepared, overdue) are defined once, in
callprep/briefs/models.py, and read here over the facts (``FROM_FACT``).

Definitions (a call is in scope when it is not cancelled, its account belongs to one of the
viewer's teams — every team with the ``view_all_teams`` permission, only the calls they join
for a plain executive; see access.py — and it matches the rep / kind filters):

- *Period*: a call is in the period when its **local day** is inside it: the date of its start
  in the call's own time zone (``Call.time_zone``, where the rep meets the customer). A call at
  23:30 in Los Angeles on 31 March belongs to 31 March although it is 1 April in UTC.
- *Due*: ``due_at_for`` — ``BRIEF_DUE_HOURS`` before the call's current start, so a moved
  call moves its due time and a changed setting applies to every call at once.
- *On time*: ``on_time_q`` (approved at or before the due time). Share = on time / "due"
  calls, where "due" calls are those whose due time has passed or that were already approved
  on time (their outcome is known). Calls with no brief count as not on time.
- *Prepared*: ``prepared_q`` (approved before the start). Share = prepared / calls that have
  started or are already prepared.
- *Lead time*: ``starts_at - approved_at`` in hours over prepared calls; median and 90th
  percentile are PostgreSQL's ``percentile_cont`` (linear interpolation; the same in Python on
  other databases).
- *Executive read*: the executive named on the call marked the brief read
  (``ExecutiveRead.read_at``; ``executive_read_at`` on the facts) at or before the start.
  Share = read / calls with an executive that have started or were read already.
- *Completeness*: complete required sections / required sections, over the briefs of the calls
  in the period (every brief has the same required sections, so this is the mean of the
  briefs' completeness). Read from the counts on the calls' facts (``sections_required``,
  ``sections_complete``: the rule of ``Brief.completeness``, written by the services whenever a
  section's state changes), not the sections.
- *Overdue*: ``overdue_q`` — *waiting on the rep* (no brief, a draft or changes requested)
  or *waiting on the reviewer* (submitted), past the due time, the call still ahead and not
  cancelled; each case is a measure of its own.
- *Upcoming*: calls starting in ``[now, now + N days)`` by brief state.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from callprep.briefs.models import (
    FROM_FACT,
    BriefStatus,
    due_hours,
    on_time_q,
    overdue_q,
    prepared_q,
    waiting_on_rep_q,
    waiting_on_reviewer_q,
)
from callprep.dashboard.models import CallFact
from callprep.expressions import Hours
from callprep.models import Call, CallStatus
from callprep.review.models import Notification, NotificationKind

# Time zones run from UTC-12 to UTC+14: a local day D covers these UTC instants at most.
EARLIEST_OFFSET = timedelta(hours=14)
LATEST_OFFSET = timedelta(hours=12)
HORIZONS = (7, 14, 30)
TREND_WEEKS = 12
OVERDUE_LIMIT = 50
# A manager's nudge or a scheduled reminder about the call: either counts as "reminded".
NUDGE_KINDS = (
    NotificationKind.NUDGE,
    NotificationKind.REMINDER_NO_BRIEF,
    NotificationKind.REMINDER_NOT_SUBMITTED,
)
NUDGE_EVERY = timedelta(days=1)
# What a count counts: a column that is never NULL and is a key of every covering index of the
# facts, so the index alone answers (``Count("pk")`` would visit the table for the key, and
# Django allows no ``Count("*")`` with a filter).
ROW = "starts_at"

STATES: tuple[tuple[str, str], ...] = (
    ("none", "No brief"),
    (BriefStatus.DRAFT, "Draft"),
    (BriefStatus.SUBMITTED, "Submitted"),
    (BriefStatus.CHANGES_REQUESTED, "Changes requested"),
    (BriefStatus.APPROVED, "Approved"),
)
NOT_APPROVED = (BriefStatus.DRAFT, BriefStatus.SUBMITTED, BriefStatus.CHANGES_REQUESTED)

# Lead-time histogram: [low, high) in hours; None is open-ended.
LEAD_BUCKETS: tuple[tuple[str, int, int | None, str], ...] = (
    ("lead_lt1d", 0, 24, "under 1 day"),
    ("lead_1d", 24, 48, "1 to 2 days"),
    ("lead_2d", 48, 72, "2 to 3 days"),
    ("lead_3d", 72, 168, "3 to 7 days"),
    ("lead_1w", 168, 336, "1 to 2 weeks"),
    ("lead_2w", 336, None, "2 weeks or more"),
)


# --- SQL helpers ------------------------------------------------------------------------------


def _parse_utc(value) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return UTC


def _local_date(value, zone_name) -> str | None:
    moment = _parse_utc(value)
    return None if moment is None else moment.astimezone(_zone(zone_name)).date().isoformat()


def _local_week(value, zone_name) -> str | None:
    day = _local_date(value, zone_name)
    if day is None:
        return None
    parsed = date.fromisoformat(day)
    return (parsed - timedelta(days=parsed.weekday())).isoformat()


def _sqlite_functions(conn) -> None:
    """SQLite has no time zones: register the two Python functions on the connection."""
    conn.ensure_connection()
    raw = conn.connection
    raw.create_function("salesprep_local_date", 2, _local_date, deterministic=True)
    raw.create_function("salesprep_local_week", 2, _local_week, deterministic=True)


class LocalDate(Func):
    """The date of a moment in a per-row time zone: ``LocalDate("starts_at", "time_zone")``."""

    arity = 2
    output_field = DateField()

    def as_sql(self, compiler, connection, **extra):
        _sqlite_functions(connection)
        return super().as_sql(compiler, connection, function="salesprep_local_date", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="((%(expressions)s)::date)",
            arg_joiner=" AT TIME ZONE ",
            **extra,
        )


class LocalWeek(Func):
    """The Monday of the local week of a moment in a per-row time zone."""

    arity = 2
    output_field = DateField()

    def as_sql(self, compiler, connection, **extra):
        _sqlite_functions(connection)
        return super().as_sql(compiler, connection, function="salesprep_local_week", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="(date_trunc('week', %(expressions)s)::date)",
            arg_joiner=" AT TIME ZONE ",
            **extra,
        )


class HoursBetween(Func):
    """PostgreSQL: ``EXTRACT(EPOCH FROM (a - b)) / 3600`` as a float."""

    arity = 2
    arg_joiner = " - "
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"
    output_field = FloatField()


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("A percentile is a fraction from 0 to 1.")
        super().__init__(expression, fraction=repr(fraction), **extra)


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """``percentile_cont`` in Python: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def uses_sql_percentiles() -> bool:
    return connection.vendor == "postgresql"


# --- Scope ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which calls a dashboard covers. ``teams=None`` means every team (and no team);
    ``executive``: only the calls that executive joins (a plain executive's own dashboard)."""

    teams: tuple[int, ...] | None
    start: date
    end: date
    rep: int | None = None
    kind: str = ""
    executive: int | None = None

    def q(self, *, period: bool = True) -> Q:
        """The facts of the calls in scope."""
        q = ~Q(status=CallStatus.CANCELLED)
        if self.teams is not None:
            q &= Q(team__in=self.teams)
        if self.executive is not None:
            q &= Q(executive=self.executive)
        if self.rep is not None:
            q &= Q(owner=self.rep)
        if self.kind:
            q &= Q(kind=self.kind)
        if period:
            q &= local_days_q(self.start, self.end)
        return q

    def facts(self, *, period: bool = True) -> QuerySet[CallFact]:
        """The facts of the calls in scope: what every number counts."""
        return CallFact.objects.filter(self.q(period=period))

    def calls(self, *, period: bool = True, q: Q | None = None) -> QuerySet[Call]:
        """The calls in scope (whose facts match ``q``, a measure): what a number lists."""
        facts = self.facts(period=period)
        if q is not None:
            facts = facts.filter(q)
        return Call.objects.filter(pk__in=facts.values("call_id"))


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def local_days_q(start: date, end: date) -> Q:
    """Calls whose local day (in the call's own time zone) is in [start, end].

    A wide UTC range on ``starts_at`` first (it uses the index), then the exact local date.
    """
    local = LocalDate("starts_at", "time_zone")
    first, after = utc_midnight(start), utc_midnight(end + timedelta(days=1))
    wide = Q(starts_at__gte=first - EARLIEST_OFFSET, starts_at__lt=after + LATEST_OFFSET)
    # Inside every zone's day: no need to compute the local date (cheaper, better estimates).
    certain = Q(starts_at__gte=first + LATEST_OFFSET, starts_at__lt=after - EARLIEST_OFFSET)
    return wide & (certain | Q(GreaterThanOrEqual(local, start), LessThanOrEqual(local, end)))


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last four weeks and the next two, in the site's time zone."""
    today = today or timezone.localdate()
    return today - timedelta(days=27), today + timedelta(days=14)


# The days a period may start and end on, and its longest length (two years and a leap day):
# the dashboard's work grows with its period, and a far date overflows the date arithmetic.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
MAX_PERIOD_DAYS = 731


def day_problem(day: date) -> str | None:
    """Why a period cannot start or end on ``day`` (None when it can)."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    first, last = (f"{d.day} {d:%b %Y}" for d in (FIRST_DAY, LAST_DAY))
    return f"Choose a day from {first} to {last}."


def period_problem(start: date, end: date) -> str | None:
    """Why the dashboard cannot show the period from ``start`` to ``end`` (None when it can)."""
    problem = day_problem(start) or day_problem(end)
    if problem is None and (end - start).days + 1 > MAX_PERIOD_DAYS:
        problem = f"A period can be at most two years ({MAX_PERIOD_DAYS} days)."
    return problem


# --- Measures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    q: Q
    period: bool = True  # False: relative to now (upcoming, overdue), not to the period


# The measures below are over ``CallFact``: ``brief_status`` is "" for a call with no brief.
WITHOUT_BRIEF = FROM_FACT.no_brief


def read_q() -> Q:
    """The executive named on the call read its brief before the start (``executive_read_at``
    is that executive's read of the call's brief: at most one, a read is unique per brief and
    user)."""
    return Q(executive__isnull=False, executive_read_at__lte=F("starts_at"))


def state_q(state: str) -> Q:
    return WITHOUT_BRIEF if state == "none" else Q(brief_status=state)


def measures(now: datetime) -> Mapping[str, Measure]:
    """Every measure at ``now`` (the same objects for the same moment: a page asks several
    times, and building the Q objects is not free)."""
    return _measures(now, due_hours())


@functools.lru_cache(maxsize=8)
def _measures(now: datetime, hours: int) -> Mapping[str, Measure]:
    due_by_now = now + timedelta(hours=hours)
    items = [
        Measure("calls", "Calls in the period", Q()),
        Measure("due", "Calls past their due time (or approved on time)",
                Q(starts_at__lte=due_by_now) | on_time_q(FROM_FACT)),
        Measure("on_time", "Brief approved by its due time", on_time_q(FROM_FACT)),
        Measure("not_on_time", "Past due without an on-time approval",
                Q(starts_at__lte=due_by_now) & ~on_time_q(FROM_FACT)),
        Measure("held", "Calls that have started (or are prepared)",
                Q(starts_at__lte=now) | prepared_q(FROM_FACT)),
        Measure("prepared", "Brief approved before the call", prepared_q(FROM_FACT)),
        Measure("exec_pool", "Calls with an executive (started or read)",
                Q(executive__isnull=False) & (Q(starts_at__lte=now) | read_q())),
        Measure("exec_read", "Executive read the brief before the call", read_q()),
        Measure("with_brief", "Calls with a brief", ~WITHOUT_BRIEF),
        Measure("overdue", "Overdue: past the due time, the call still ahead",
                overdue_q(now, FROM_FACT), period=False),
        Measure("waiting_on_rep", "Overdue, waiting on the rep",
                waiting_on_rep_q(now, FROM_FACT), period=False),
        Measure("waiting_on_reviewer", "Overdue, waiting on the reviewer",
                waiting_on_reviewer_q(now, FROM_FACT), period=False),
    ]  # fmt: skip
    for key, low, high, label in LEAD_BUCKETS:
        q = prepared_q(FROM_FACT) & Q(approved_at__lte=F("starts_at") - Hours(low))
        if high is not None:
            q &= Q(approved_at__gt=F("starts_at") - Hours(high))
        items.append(Measure(key, f"Lead time {label}", q))
    for days in HORIZONS:
        window = Q(starts_at__gte=now, starts_at__lt=now + timedelta(days=days))
        for state, label in STATES:
            items.append(
                Measure(
                    f"upcoming_{days}_{state}",
                    f"Next {days} days: {label.lower()}",
                    window & state_q(state),
                    period=False,
                )
            )
    return MappingProxyType({m.key: m for m in items})


PERIOD_COUNTS = (
    "due", "on_time", "held", "prepared", "exec_pool", "exec_read", "with_brief",
    *(key for key, *_ in LEAD_BUCKETS),
)  # fmt: skip


# --- Results ----------------------------------------------------------------------------------


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def as_percent(value: float | None) -> int | None:
    return None if value is None else round(value * 100)


def hours_words(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 48:
        return f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


@dataclass
class Figures:
    """The counts of one group of calls (everyone in scope, or one rep) and what follows."""

    counts: dict[str, int] = field(default_factory=dict)
    lead_p50: float | None = None  # hours
    lead_p90: float | None = None
    sections_total: int = 0
    sections_complete: int = 0

    def __getitem__(self, key: str) -> int:
        # A KeyError for anything but a count, so templates fall back to the attributes.
        return self.counts[key]

    @property
    def calls(self) -> int:
        return self["calls"]

    @property
    def on_time_share(self) -> float | None:
        return ratio(self["on_time"], self["due"])

    @property
    def prepared_share(self) -> float | None:
        return ratio(self["prepared"], self["held"])

    @property
    def exec_read_share(self) -> float | None:
        return ratio(self["exec_read"], self["exec_pool"])

    @property
    def completeness(self) -> float | None:
        return ratio(self.sections_complete, self.sections_total)

    @property
    def on_time_pct(self) -> int | None:
        return as_percent(self.on_time_share)

    @property
    def prepared_pct(self) -> int | None:
        return as_percent(self.prepared_share)

    @property
    def exec_read_pct(self) -> int | None:
        return as_percent(self.exec_read_share)

    @property
    def completeness_pct(self) -> int | None:
        return as_percent(self.completeness)

    @property
    def lead_p50_words(self) -> str:
        return hours_words(self.lead_p50)

    @property
    def lead_p90_words(self) -> str:
        return hours_words(self.lead_p90)


@dataclass
class RepRow:
    rep_id: int
    name: str
    username: str
    figures: Figures


@dataclass
class TeamRow:
    team_id: int | None  # None: accounts without a team
    name: str
    figures: Figures


@dataclass
class WeekPoint:
    monday: date
    due: int
    on_time: int

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def share(self) -> float | None:
        return ratio(self.on_time, self.due)

    @property
    def pct(self) -> int | None:
        return as_percent(self.share)


@dataclass
class Dashboard:
    scope: Scope
    now: datetime
    total: Figures
    reps: list[RepRow]
    teams: list[TeamRow] | None  # by team instead of by rep (the whole organisation)
    upcoming: dict[str, int]
    trend: list[WeekPoint]
    overdue: list[Call]
    overdue_count: int

    def upcoming_rows(self) -> list[tuple[int, list[tuple[str, str, int]]]]:
        """[(days, [(state, label, count)])] for the upcoming table and chart."""
        return [
            (days, [(s, label, self.upcoming[f"upcoming_{days}_{s}"]) for s, label in STATES])
            for days in HORIZONS
        ]


def _counts(now: datetime, keys: Iterable[str]) -> dict:
    defined = measures(now)
    return {key: Count(ROW, filter=defined[key].q) for key in keys}


def _lead_percentiles() -> dict:
    lead = HoursBetween("starts_at", "approved_at")
    return {
        "lead_p50": PercentileCont(lead, 0.5, filter=prepared_q(FROM_FACT)),
        "lead_p90": PercentileCont(lead, 0.9, filter=prepared_q(FROM_FACT)),
    }


def _python_leads(facts: QuerySet, key: str = "owner_id") -> dict[int | None, list[float]]:
    """Lead hours by group (rep by default), for databases without percentile_cont."""
    leads: dict[int | None, list[float]] = {}
    rows = facts.filter(prepared_q(FROM_FACT)).values_list(key, "starts_at", "approved_at")
    for group, starts_at, approved_at in rows:
        hours = (starts_at - approved_at).total_seconds() / 3600
        leads.setdefault(group, []).append(hours)
    return leads


def _completeness_sums() -> dict:
    """Required sections and complete ones over the briefs of the calls, from the counts on
    their facts (``sections_required`` / ``sections_complete``, 0 for a call without a brief):
    no section is read."""
    return {
        "sections_total": Sum("sections_required"),
        "sections_complete": Sum("sections_complete"),
    }


def _grand_total_too(queryset: QuerySet) -> tuple[str, tuple]:
    """The SQL of a grouped queryset, with the grand total as one more row (its key NULL)."""
    sql, params = queryset.query.sql_with_params()
    at = sql.rindex(" GROUP BY ")
    return f"{sql[:at]} GROUP BY GROUPING SETS (({sql[at + 10 :]}), ())", params


# What a group is: the key (never NULL but on the grand total's row) and the name columns.
BY_REP = ("owner_id", "owner__username", "owner__first_name", "owner__last_name")
BY_TEAM = ("team_key", "team__name")  # team_key: the team's id, 0 for no team


def _grouped_figures(
    scope: Scope, now: datetime, group: tuple[str, ...]
) -> tuple[Figures, dict[int | None, tuple[dict, Figures]]]:
    """The headline figures and the figures of each group of calls, keyed by ``group[0]``:
    one query on PostgreSQL (the grand total is a grouping set), two or three elsewhere."""
    calls = scope.facts().annotate(team_key=Coalesce("team_id", Value(0)))
    sql_percentiles = uses_sql_percentiles()
    names = ("calls", *PERIOD_COUNTS)
    grouped = (
        calls.order_by()
        .values(*group)
        .annotate(
            calls=Count(ROW),
            **_counts(now, PERIOD_COUNTS),
            **_completeness_sums(),
            **(_lead_percentiles() if sql_percentiles else {}),
        )
    )
    total = Figures(counts=dict.fromkeys(names, 0))

    def figures(row) -> Figures:
        return Figures(
            counts={k: row[k] or 0 for k in names},
            lead_p50=row.get("lead_p50"),
            lead_p90=row.get("lead_p90"),
            sections_total=row["sections_total"] or 0,
            sections_complete=row["sections_complete"] or 0,
        )

    if sql_percentiles:
        sql, params = _grand_total_too(grouped)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            columns = [c[0] for c in cursor.description]
            fetched = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    else:
        fetched = list(grouped)
        total = figures(
            calls.aggregate(calls=Count(ROW), **_counts(now, PERIOD_COUNTS), **_completeness_sums())
        )
    groups: dict[int | None, tuple[dict, Figures]] = {}
    for row in fetched:
        if row[group[0]] is None:
            total = figures(row)
            continue
        groups[row[group[0]]] = (row, figures(row))
    if not sql_percentiles:
        leads = _python_leads(calls, group[0])
        everyone = [h for hours in leads.values() for h in hours]
        total.lead_p50, total.lead_p90 = percentile(everyone, 0.5), percentile(everyone, 0.9)
        for key, hours in leads.items():
            if key in groups:
                groups[key][1].lead_p50 = percentile(hours, 0.5)
                groups[key][1].lead_p90 = percentile(hours, 0.9)
    return total, groups


def figures_by_rep(scope: Scope, now: datetime) -> tuple[Figures, list[RepRow]]:
    """The headline figures and one row per rep (one query on PostgreSQL)."""
    total, groups = _grouped_figures(scope, now, BY_REP)
    rows = []
    for rep_id, (row, figures) in groups.items():
        name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        rows.append(
            RepRow(
                rep_id=rep_id,
                name=name or row["owner__username"],
                username=row["owner__username"],
                figures=figures,
            )
        )
    return total, sorted(rows, key=lambda r: (r.name.lower(), r.rep_id))


def figures_by_team(scope: Scope, now: datetime) -> tuple[Figures, list[TeamRow]]:
    """The headline figures and one row per team of the calls' accounts (one query on
    PostgreSQL): the whole organisation at a glance, each team drilling down to its reps."""
    total, groups = _grouped_figures(scope, now, BY_TEAM)
    rows = [
        TeamRow(team_id=key or None, name=row["team__name"] or "No team", figures=figures)
        for key, (row, figures) in groups.items()
    ]
    return total, sorted(rows, key=lambda r: (r.team_id is None, r.name.lower(), r.team_id or 0))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def trend_weeks(now: datetime, weeks: int = TREND_WEEKS) -> tuple[date, date]:
    """The first Monday and the last Sunday of the trend (up to this week, the site's days)."""
    this_monday = week_start(timezone.localdate(now))
    return this_monday - timedelta(weeks=weeks - 1), this_monday + timedelta(days=6)


def activity(
    scope: Scope, now: datetime, weeks: int = TREND_WEEKS
) -> tuple[dict[str, int], list[WeekPoint]]:
    """The upcoming calls by brief state, the overdue count and the weekly on-time trend, in
    one query: the calls of the trend's weeks or of the next days, grouped by local week.

    Each upcoming measure carries its own window and each trend count the trend's local days,
    so summing the upcoming counts over the weeks gives exactly the ungrouped counts.
    """
    first, last = trend_weeks(now, weeks)
    horizon = max(timedelta(days=max(HORIZONS)), timedelta(hours=due_hours()))
    defined = measures(now)
    upcoming_keys = [k for k, m in defined.items() if not m.period]
    in_trend = local_days_q(first, last)
    # One plain range on starts_at (the index) covers both: the trend's weeks in every time
    # zone and the next days; each count narrows it to its own calls.
    since = utc_midnight(first) - EARLIEST_OFFSET
    until = max(utc_midnight(last + timedelta(days=1)) + LATEST_OFFSET, now + horizon)
    rows = (
        scope.facts(period=False)
        .filter(starts_at__gte=since, starts_at__lt=until)
        .annotate(week=LocalWeek("starts_at", "time_zone"))
        .order_by()
        .values("week")
        .annotate(
            **{k: Count(ROW, filter=defined[k].q) for k in upcoming_keys},
            trend_due=Count(ROW, filter=in_trend & defined["due"].q),
            trend_on_time=Count(ROW, filter=in_trend & defined["on_time"].q),
        )
    )
    upcoming = dict.fromkeys(upcoming_keys, 0)
    found = {}
    for row in rows:
        found[row["week"]] = row
        for key in upcoming_keys:
            upcoming[key] += row[key] or 0
    points = []
    for i in range(weeks):
        monday = first + timedelta(weeks=i)
        row = found.get(monday, {})
        points.append(WeekPoint(monday, row.get("trend_due", 0), row.get("trend_on_time", 0)))
    return upcoming, points


def upcoming_counts(scope: Scope, now: datetime) -> dict[str, int]:
    """Calls in the next 7/14/30 days by brief state, and the overdue count (one query)."""
    return activity(scope, now)[0]


def weekly_trend(scope: Scope, now: datetime, weeks: int = TREND_WEEKS) -> list[WeekPoint]:
    """On-time preparation by the calls' local week, the last ``weeks`` weeks (one query)."""
    return activity(scope, now, weeks)[1]


def recent_nudges(now: datetime) -> QuerySet:
    return Notification.objects.filter(kind__in=NUDGE_KINDS, created_at__gt=now - NUDGE_EVERY)


def overdue_calls(scope: Scope, now: datetime, limit: int = OVERDUE_LIMIT) -> list[Call]:
    """Overdue calls, the soonest first, with ``reminded`` (a reminder in the last day)."""
    calls = (
        scope.calls(period=False, q=overdue_q(now, FROM_FACT))
        .select_related("account", "owner", "brief")
        .annotate(reminded=Exists(recent_nudges(now).filter(call=OuterRef("pk"))))
        .order_by("starts_at", "pk")
    )
    return list(calls[:limit])


def dashboard(scope: Scope, now: datetime | None = None, *, by_team: bool = False) -> Dashboard:
    """Everything on the dashboard page in four queries on PostgreSQL. ``by_team``: one row per
    team instead of one per rep (the whole organisation, where a per-rep table is too long)."""
    now = now or timezone.now()
    if by_team:
        total, teams = figures_by_team(scope, now)
        reps: list[RepRow] = []
    else:
        total, reps = figures_by_rep(scope, now)
        teams = None
    upcoming, trend = activity(scope, now)
    return Dashboard(
        scope=scope,
        now=now,
        total=total,
        reps=reps,
        teams=teams,
        upcoming=upcoming,
        trend=trend,
        overdue=overdue_calls(scope, now),
        overdue_count=upcoming["overdue"],
    )


def drill_down_facts(scope: Scope, key: str, now: datetime | None = None) -> QuerySet[CallFact]:
    """The facts of the calls behind one number, the earliest call first (``KeyError`` for an
    unknown measure). What the drill-down pages through: the facts carry the period's range,
    so a page is a short walk of the start index, where the calls alone cannot tell which of
    them are in the period without visiting their facts one by one."""
    measure = measures(now or timezone.now())[key]
    return scope.facts(period=measure.period).filter(measure.q).order_by("starts_at", "call_id")


def drill_down(scope: Scope, key: str, now: datetime | None = None) -> QuerySet[Call]:
    """The calls behind one number (``KeyError`` for an unknown measure)."""
    return Call.objects.filter(pk__in=drill_down_facts(scope, key, now).values("call_id"))

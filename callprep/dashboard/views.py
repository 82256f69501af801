"""Dashboard views: thin. Access through callprep/dashboard/access.py, numbers from metrics.py."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import batched
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.params import IdField, filter_errors, valid_filters
from callprep import timefmt
from callprep.briefs.models import (
    NO_BRIEF,
    BriefStatus,
    due_at_for,
    due_hours,
    is_on_time,
    lead_time,
    percent,
)
from callprep.dashboard import charts, metrics
from callprep.dashboard.access import scope_for, viewer_for
from callprep.dashboard.nudge import NudgeError, nudge
from callprep.models import Call, CallKind

PAGE = "dashboard/dashboard.html"
CALLS = "dashboard/calls.html"
PER_PAGE = 100
CSV_CHUNK = 2000  # calls loaded at a time for a drill-down's CSV
REPS_PER_PAGE = 50

SORTS = {
    "name": (lambda r: r.name.lower(), "asc"),
    "calls": (lambda r: r.figures.calls, "desc"),
    "prepared": (lambda r: r.figures.prepared_share, "desc"),
    "on_time": (lambda r: r.figures.on_time_share, "desc"),
    "lead": (lambda r: r.figures.lead_p50, "desc"),
    "completeness": (lambda r: r.figures.completeness, "desc"),
    "exec_read": (lambda r: r.figures.exec_read_share, "desc"),
}


class FilterForm(forms.Form):
    """The dashboard's filters; a bad one is named on the page and ignored (accounts/params.py).

    The period is always one the dashboard can show (``metrics.period_problem``): a bad day or
    a period longer than two years falls back to the default period, with a message.
    """

    team = IdField()
    rep = IdField()
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *CallKind.choices])
    start = forms.DateField(required=False, label="From")
    end = forms.DateField(required=False, label="To")
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    dir = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])

    def clean_start(self):
        return self._day("start")

    def clean_end(self):
        return self._day("end")

    def _day(self, name: str):
        day = self.cleaned_data[name]
        if day is not None and (problem := metrics.day_problem(day)):
            raise forms.ValidationError(problem)
        return day

    def clean(self):
        data = super().clean()
        default_start, default_end = metrics.default_period()
        start, end = data.get("start") or default_start, data.get("end") or default_end
        if start > end:
            start, end = end, start
        problem = metrics.period_problem(start, end)
        data["start"], data["end"] = (default_start, default_end) if problem else (start, end)
        if problem:
            raise forms.ValidationError(f"{problem} The dashboard shows the default period.")
        return data


def _filters(request: HttpRequest):
    """The viewer, the scope, the chosen filters of a request (403/404 via access) and a
    sentence per filter that was ignored."""
    viewer = viewer_for(request.user)
    form = FilterForm(request.GET)
    data = valid_filters(form)
    start, end = data["start"], data["end"]
    scope, team, reps = scope_for(
        viewer,
        team_id=data.get("team"),
        rep_id=data.get("rep"),
        kind=data.get("kind") or "",
        start=start,
        end=end,
    )
    params = {
        k: v
        for k, v in (
            ("team", team.pk if team else ""),
            ("rep", scope.rep or ""),
            ("kind", scope.kind),
            ("start", start.isoformat()),
            ("end", end.isoformat()),
        )
        if v
    }
    return viewer, scope, team, reps, params, data, filter_errors(form)


def _refused(errors: list[str]) -> HttpResponse:
    """A download cannot show a message: a bad filter refuses it, in the filters' words."""
    return HttpResponse(" ".join(errors), status=400, content_type="text/plain; charset=utf-8")


def _url(name: str, params: dict, **extra) -> str:
    query = urlencode({**params, **{k: v for k, v in extra.items() if v not in (None, "")}})
    return f"{reverse(name)}?{query}" if query else reverse(name)


def _drill(params: dict, measure: str, **extra) -> str:
    return _url("callprep:dashboard:calls", params, measure=measure, **extra)


def _drills(params: dict, keys) -> dict[str, str]:
    """Drill-down links for many measures with the same filters (one reverse, one urlencode)."""
    base = _url("callprep:dashboard:calls", params)
    joiner = "&" if "?" in base else "?"
    return {k: f"{base}{joiner}{urlencode({'measure': k})}" for k in keys}


def _percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    viewer, scope, team, reps, params, data, errors = _filters(request)
    now = timezone.now()
    # The whole organisation (no team, no rep chosen): one row per team, each drilling down to
    # that team's reps. A team, a manager's own teams or a rep: one row per rep.
    by_team = viewer.sees_everyone and team is None and scope.rep is None
    board = metrics.dashboard(scope, now, by_team=by_team)

    sort = data.get("sort") or "name"
    key, default_dir = SORTS[sort]
    direction = data.get("dir") or default_dir
    groups = board.teams if by_team else board.reps
    present = [r for r in groups if key(r) is not None]
    missing = [r for r in groups if key(r) is None]
    group_rows = sorted(present, key=key, reverse=direction == "desc") + missing
    sort_links = {}
    for name, (_, natural) in SORTS.items():
        next_dir = ("asc" if direction == "desc" else "desc") if name == sort else natural
        sort_links[name] = _url("callprep:dashboard", params, sort=name, dir=next_dir)

    links = _drills(params, metrics.measures(now))
    rep_page = Paginator(group_rows, REPS_PER_PAGE).get_page(request.GET.get("page"))
    dashboard_url, drill_url = reverse("callprep:dashboard"), reverse("callprep:dashboard:calls")
    rows = []
    for row in rep_page.object_list:
        if by_team:
            if row.team_id is None:  # accounts without a team: no team filter to drill into
                rows.append({"group": row, "filter_url": "", "links": {}})
                continue
            query = urlencode({**params, "team": row.team_id})
        else:
            query = urlencode({**params, "rep": row.rep_id})
        rows.append(
            {
                "group": row,
                "rep": row,
                "filter_url": f"{dashboard_url}?{query}",
                "links": {
                    k: f"{drill_url}?{query}&measure={k}"
                    for k in ("calls", "held", "prepared", "due", "on_time", "with_brief")
                },
            }
        )
    if by_team:  # reps are picked within a team (a team's page lists its reps)
        rep_choices = []
    elif reps is None:  # no rep chosen: offer the reps who have calls in the period
        reps = sorted(board.reps, key=lambda r: (r.name.lower(), r.rep_id))
        rep_choices = [(r.rep_id, r.name) for r in reps]
    else:
        rep_choices = [(r.pk, str(r)) for r in reps]
    sort_params = {**params, "sort": sort, "dir": direction}
    total = board.total
    histogram = charts.bar_chart(
        "lead-histogram",
        "Lead time: approval to call",
        f"How long before the call each brief was approved, over {total['prepared']} prepared "
        f"calls. Median {total.lead_p50_words}, 90th percentile {total.lead_p90_words}.",
        [
            (label, total[k], str(total[k]), links[k])
            for k, _low, _high, label in metrics.LEAD_BUCKETS
        ],
    )
    trend = charts.bar_chart(
        "on-time-trend",
        "On-time preparation, last 12 weeks",
        "Share of calls each week (by the call's local day) whose brief was approved by its due "
        "time. " + "; ".join(f"week of {p.monday:%d %b}: {_percent(p.pct)}" for p in board.trend),
        [
            (
                f"{p.monday:%d %b}",
                p.pct,
                _percent(p.pct),
                _drill(params, "on_time", start=p.monday.isoformat(), end=p.sunday.isoformat()),
            )
            for p in board.trend
        ],
        max_value=100,
        unit="%",
    )
    upcoming_rows = board.upcoming_rows()
    upcoming = charts.stacked_chart(
        "upcoming-states",
        "Upcoming calls by brief state",
        "; ".join(
            f"next {days} days: "
            + ", ".join(f"{count} {label.lower()}" for _, label, count in states)
            for days, states in upcoming_rows
        ),
        [
            (
                f"Next {days} days",
                [
                    (f"state-{s}", label, count, links[f"upcoming_{days}_{s}"])
                    for s, label, count in states
                ],
            )
            for days, states in upcoming_rows
        ],
    )
    context = {
        "viewer": viewer,
        "filter_errors": errors,
        "scope": scope,
        "team": team,
        "rep_choices": rep_choices,
        "by_team": by_team,
        "rep_page": rep_page,
        "rep_page_url": _url("callprep:dashboard", sort_params),
        "kinds": CallKind.choices,
        "params": params,
        "board": board,
        "total": total,
        "rows": rows,
        "sort": sort,
        "direction": direction,
        "sort_links": sort_links,
        "links": links,
        "upcoming_rows": [
            (days, [(label, count, links[f"upcoming_{days}_{s}"]) for s, label, count in states])
            for days, states in upcoming_rows
        ],
        "upcoming_chart": upcoming,
        "histogram": histogram,
        "trend": trend,
        "trend_rows": [
            (
                p,
                _drill(params, "due", start=p.monday.isoformat(), end=p.sunday.isoformat()),
                _drill(params, "on_time", start=p.monday.isoformat(), end=p.sunday.isoformat()),
            )
            for p in board.trend
        ],
        "reps_csv": _url("callprep:dashboard:reps_csv", params),
        "here": request.get_full_path(),
        "due_hours": due_hours(),
        "states": metrics.STATES,
    }
    if request.htmx and not request.htmx.history_restore_request:  # a restore needs the page
        return render(request, f"{PAGE}#body", context)
    return render(request, PAGE, context)


def _call_row(call, now) -> dict:
    """One drill-down row: the facts of a call as the metrics define them."""
    brief = getattr(call, "brief", None)
    status = brief.status if brief else NO_BRIEF
    approved_at = brief.approved_at if brief else None
    lead = lead_time(status, approved_at, call.starts_at)
    lead_hours = lead.total_seconds() / 3600 if lead is not None else None
    fact = getattr(call, "fact", None)
    return {
        "call": call,
        "brief": brief,
        "status": brief.get_status_display() if brief else "No brief",
        "due": due_at_for(call.starts_at),
        "approved_at": approved_at if status == BriefStatus.APPROVED else None,
        "on_time": is_on_time(status, approved_at, call.starts_at),
        "waiting_on_rep": call.waiting_on_rep(now),
        "waiting_on_reviewer": call.waiting_on_reviewer(now),
        "lead_hours": lead_hours,
        "lead_words": metrics.hours_words(lead_hours)
        if lead_hours is not None and lead_hours >= 0
        else "—",
        # From the call's facts, as the dashboard's average completeness is.
        "completeness": percent(fact.sections_complete, fact.sections_required)
        if brief and fact
        else None,
    }


def _drill_calls(request: HttpRequest):
    _viewer, scope, team, reps, params, _, errors = _filters(request)
    key = request.GET.get("measure", "")
    now = timezone.now()
    defined = metrics.measures(now)
    if key not in defined:
        raise Http404("No such measure.")
    call_ids = metrics.drill_down_facts(scope, key, now).values_list("call_id", flat=True)
    return scope, team, reps, params, defined[key], call_ids, now, errors


def _calls(call_ids: list[int]) -> list:
    """The calls of a page of a drill-down, in the given order, with what a row shows."""
    calls = Call.objects.filter(pk__in=call_ids).select_related(
        "account", "owner", "executive", "brief", "fact"
    )
    by_id = {call.pk: call for call in calls}
    return [by_id[pk] for pk in call_ids if pk in by_id]


@require_http_methods(["GET"])
def calls(request: HttpRequest) -> HttpResponse:
    """The calls behind one number of the dashboard."""
    scope, team, reps, params, measure, call_ids, now, errors = _drill_calls(request)
    page = Paginator(call_ids, PER_PAGE).get_page(request.GET.get("page"))
    rep = next((r for r in reps or () if r.pk == scope.rep), None)
    context = {
        "measure": measure,
        "page": page,
        "rows": [_call_row(c, now) for c in _calls(list(page.object_list))],
        "team": team,
        "rep": rep,
        "scope": scope,
        "back": _url("callprep:dashboard", params),
        "csv_url": _url("callprep:dashboard:calls_csv", params, measure=measure.key),
        "page_url": _url("callprep:dashboard:calls", params, measure=measure.key),
        "filter_errors": errors,
    }
    return render(request, CALLS, context)


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(filename: str, header: list[str], rows: Iterator[list]) -> HttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(v) if isinstance(v, str) else v for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def overdue_words(row: dict) -> str:
    """The overdue case of a drill-down row, in the words every screen uses."""
    if row["waiting_on_rep"]:
        return "waiting on the rep"
    if row["waiting_on_reviewer"]:
        return "waiting on the reviewer"
    return ""


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


@require_http_methods(["GET"])
def calls_csv(request: HttpRequest) -> HttpResponse:
    scope, _team, _reps, _params, measure, call_ids, now, errors = _drill_calls(request)
    if errors:
        return _refused(errors)
    header = [
        "call_id", "title", "customer", "rep", "kind", "call_time", "starts_at_local",
        "time_zone", "due_at", "brief_status", "approved_at", "on_time", "lead_time_hours",
        "completeness_percent", "overdue",
    ]  # fmt: skip

    # The rows are written while the response streams, after the request (and the viewer's
    # zone with it) has ended: keep the zone now.
    zone = timezone.get_current_timezone()

    def rows():
        # Every id at once (small), then the calls a chunk at a time.
        for chunk in batched(list(call_ids), CSV_CHUNK, strict=False):
            yield from (csv_row(call) for call in _calls(list(chunk)))

    def csv_row(call) -> list:
        row = _call_row(call, now)
        return [
            call.pk,
            call.title,
            call.account.name,
            call.owner.get_full_name() or call.owner.username,
            call.get_kind_display(),
            timefmt.call_time(call),
            call.local_start.strftime("%Y-%m-%d %H:%M"),
            call.time_zone,
            timefmt.viewer_time_iso(row["due"], zone),
            row["status"],
            timefmt.viewer_time_iso(row["approved_at"], zone),
            "yes" if row["on_time"] else "no",
            _hours(row["lead_hours"]),
            "" if row["completeness"] is None else int(row["completeness"]),
            overdue_words(row),
        ]

    return _csv_response(f"prep-{measure.key}-{scope.start}-{scope.end}.csv", header, rows())


@require_http_methods(["GET"])
def reps_csv(request: HttpRequest) -> HttpResponse:
    _viewer, scope, *_, errors = _filters(request)
    if errors:
        return _refused(errors)
    _total, reps = metrics.figures_by_rep(scope, timezone.now())
    header = [
        "rep", "username", "calls", "due_calls", "on_time", "on_time_percent", "held_calls",
        "prepared", "prepared_percent", "median_lead_time_hours", "completeness_percent",
        "executive_read_percent",
    ]  # fmt: skip

    def rows():
        for r in reps:
            f = r.figures
            yield [
                r.name, r.username, f.calls, f["due"], f["on_time"], f.on_time_pct,
                f["held"], f["prepared"], f.prepared_pct, _hours(f.lead_p50),
                f.completeness_pct, f.exec_read_pct,
            ]  # fmt: skip

    return _csv_response(f"prep-by-rep-{scope.start}-{scope.end}.csv", header, rows())


@require_http_methods(["POST"])
def nudge_call(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the reminder for an overdue call now (at most once a day per call)."""
    viewer = viewer_for(request.user)
    today = timezone.localdate()
    # The calls the viewer's dashboard lists (a plain executive: the calls they join).
    scope, _team, _reps = scope_for(
        viewer, team_id=None, rep_id=None, kind="", start=today, end=today
    )
    call = scope.calls(period=False).filter(pk=pk).first()
    if call is None:
        raise Http404("No such call.")
    try:
        sent = nudge(call, by=request.user)
    except NudgeError as exc:
        messages.warning(request, str(exc))
    else:
        names = ", ".join(str(n.recipient) for n in sent)
        messages.success(request, f"Reminder sent to {names} for “{call.title}”.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("callprep:dashboard")
    return redirect(target)

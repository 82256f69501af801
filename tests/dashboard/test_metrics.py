"""The dashboard's numbers on a hand-built data set with known answers (see conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from callprep.briefs.models import BriefStatus
from callprep.dashboard import metrics
from callprep.dashboard.facts import sync_call_facts
from callprep.dashboard.metrics import Scope, percentile
from callprep.review.models import ExecutiveRead

from .conftest import NOW, D, H, add_call, add_read

pytestmark = pytest.mark.django_db

PERIOD = (dt.date(2025, 5, 19), dt.date(2025, 7, 17))


def east_scope(east, **extra) -> Scope:
    return Scope(teams=(east.pk,), start=PERIOD[0], end=PERIOD[1], **extra)


def titles(qs) -> list[str]:
    return sorted(qs.values_list("title", flat=True))


def test_the_team_headline_matches_the_hand_computed_answers(known, east):
    board = metrics.dashboard(east_scope(east), NOW)
    t = board.total
    assert t.calls == 8  # c1..c8; the cancelled c9 and West's w1 are not counted
    assert (t["on_time"], t["due"]) == (3, 7)  # c1, c2 (exactly at due), c7 (early) of 7
    assert t.on_time_pct == 43
    assert (t["prepared"], t["held"]) == (4, 6)
    assert t.prepared_pct == 67
    assert (t["exec_read"], t["exec_pool"]) == (1, 2)
    assert (t.sections_complete, t.sections_total) == (38, 49)
    assert t.completeness_pct == 78
    # Lead times 47, 48, 72, 121 hours: median 60, 90th percentile 72 + 0.7 * 49.
    assert t.lead_p50 == pytest.approx(60.0)
    assert t.lead_p90 == pytest.approx(106.3)
    assert board.overdue_count == 1
    assert [c.title for c in board.overdue] == ["c6"]


def test_a_brief_approved_exactly_at_the_due_time_is_on_time_and_a_second_later_is_late(
    known, east, acme
):
    on_the_dot = add_call(
        acme, NOW - 20 * D, title="dot", brief=BriefStatus.APPROVED,
        approved_at=NOW - 20 * D - 48 * H,
    )  # fmt: skip
    a_second_late = add_call(
        acme, NOW - 20 * D, title="late", brief=BriefStatus.APPROVED,
        approved_at=NOW - 20 * D - 48 * H + dt.timedelta(seconds=1),
    )  # fmt: skip
    on_time = metrics.drill_down(east_scope(east), "on_time", NOW)
    assert on_the_dot in on_time
    assert a_second_late not in on_time
    assert a_second_late in metrics.drill_down(east_scope(east), "not_on_time", NOW)


def test_lead_times_fall_into_the_histogram_buckets(known, east):
    t = metrics.dashboard(east_scope(east), NOW).total
    assert t["lead_1d"] == 1  # c3, 47 h
    assert t["lead_2d"] == 1  # c2, exactly 48 h
    assert t["lead_3d"] == 2  # c1 72 h and c7 121 h
    assert t["lead_lt1d"] == t["lead_1w"] == t["lead_2w"] == 0


def test_the_per_rep_table_splits_the_numbers_by_rep(known, east):
    board = metrics.dashboard(east_scope(east), NOW)
    rows = {r.username: r.figures for r in board.reps}
    assert set(rows) == {"alice", "bob"}
    assert (rows["alice"].calls, rows["alice"]["due"], rows["alice"]["on_time"]) == (5, 4, 3)
    assert rows["alice"].on_time_pct == 75
    assert rows["alice"].lead_p50 == pytest.approx(60.0)
    assert (rows["bob"].calls, rows["bob"]["due"], rows["bob"]["on_time"]) == (3, 3, 0)
    assert rows["bob"].lead_p50 is None
    assert (rows["bob"].sections_complete, rows["bob"].sections_total) == (10, 14)


def test_upcoming_calls_are_counted_by_brief_state(known, east):
    up = metrics.dashboard(east_scope(east), NOW).upcoming
    assert up["upcoming_7_submitted"] == 1  # c6
    assert up["upcoming_7_approved"] == 1  # c7
    assert up["upcoming_7_draft"] == 0
    assert up["upcoming_14_draft"] == 1  # c8
    assert up["upcoming_30_none"] == 0


def test_every_number_drills_down_to_exactly_the_calls_behind_it(known, east):
    scope = east_scope(east)
    assert titles(metrics.drill_down(scope, "on_time", NOW)) == ["c1", "c2", "c7"]
    assert titles(metrics.drill_down(scope, "due", NOW)) == [
        "c1", "c2", "c3", "c4", "c5", "c6", "c7",
    ]  # fmt: skip
    assert titles(metrics.drill_down(scope, "prepared", NOW)) == ["c1", "c2", "c3", "c7"]
    assert titles(metrics.drill_down(scope, "exec_read", NOW)) == ["c1"]
    assert titles(metrics.drill_down(scope, "overdue", NOW)) == ["c6"]
    assert titles(metrics.drill_down(scope, "upcoming_14_draft", NOW)) == ["c8"]
    board = metrics.dashboard(scope, NOW)
    for key in metrics.PERIOD_COUNTS:
        assert metrics.drill_down(scope, key, NOW).count() == board.total[key], key


def test_the_rep_and_kind_filters_narrow_the_numbers(known, east, bob, acme):
    add_call(acme, NOW - 2 * D, title="visit", owner=bob, kind="executive_visit")
    assert metrics.dashboard(east_scope(east, rep=bob.pk), NOW).total.calls == 4
    visits = metrics.dashboard(east_scope(east, kind="executive_visit"), NOW).total
    assert visits.calls == 1
    assert visits.on_time_pct == 0


def test_everyone_includes_other_teams(known, east):
    everyone = Scope(teams=None, start=PERIOD[0], end=PERIOD[1])
    t = metrics.dashboard(everyone, NOW).total
    assert t.calls == 9  # East's eight and West's w1
    assert t["on_time"] == 4


def test_a_call_belongs_to_its_local_day_in_the_calls_time_zone(acme, east):
    # 23:30 on 31 March in Los Angeles is 06:30 on 1 April in UTC.
    la = add_call(
        acme, dt.datetime(2025, 4, 1, 6, 30, tzinfo=dt.UTC), time_zone="America/Los_Angeles",
        title="la",
    )  # fmt: skip
    # 00:30 on 1 April in Tokyo is 15:30 on 31 March in UTC.
    tokyo = add_call(
        acme, dt.datetime(2025, 3, 31, 15, 30, tzinfo=dt.UTC), time_zone="Asia/Tokyo",
        title="tokyo",
    )  # fmt: skip
    march_31 = Scope(teams=(east.pk,), start=dt.date(2025, 3, 31), end=dt.date(2025, 3, 31))
    april_1 = Scope(teams=(east.pk,), start=dt.date(2025, 4, 1), end=dt.date(2025, 4, 1))
    assert list(march_31.calls()) == [la]
    assert list(april_1.calls()) == [tokyo]


def test_the_weekly_trend_counts_calls_in_their_local_week(known, east, acme):
    # Sunday 15 June 23:30 in New York is Monday 16 June in UTC: it belongs to the week of 9 June.
    add_call(
        acme, dt.datetime(2025, 6, 16, 3, 30, tzinfo=dt.UTC), time_zone="America/New_York",
        title="sunday-night", brief=BriefStatus.APPROVED,
        approved_at=dt.datetime(2025, 6, 12, tzinfo=dt.UTC),
    )  # fmt: skip
    trend = metrics.dashboard(east_scope(east), NOW).trend
    assert len(trend) == 12
    by_week = {p.monday: (p.due, p.on_time) for p in trend}
    assert by_week[dt.date(2025, 6, 2)] == (1, 1)  # c1 on Sunday 8 June
    assert by_week[dt.date(2025, 6, 9)] == (5, 2)  # c2, c3, c4, c5 and sunday-night
    assert by_week[dt.date(2025, 6, 16)] == (1, 0)  # c6; c7 is next week
    assert trend[-1].monday == dt.date(2025, 6, 16)


def test_the_python_percentile_matches_postgresqls_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([47, 48, 72, 121], 0.5) == pytest.approx(60.0)
    assert percentile([47, 48, 72, 121], 0.9) == pytest.approx(106.3)


def test_the_sqlite_local_day_functions_follow_the_time_zone():
    assert metrics._local_date("2025-04-01 06:30:00", "America/Los_Angeles") == "2025-03-31"
    assert metrics._local_date("2025-03-31 15:30:00", "Asia/Tokyo") == "2025-04-01"
    assert metrics._local_week("2025-06-16 03:30:00", "America/New_York") == "2025-06-09"
    assert metrics._local_date(None, "UTC") is None


def test_only_the_calls_own_executive_reading_before_the_start_counts_once(
    known, east, victor, make_user
):
    """c2 has victor as its executive: another executive's read does not count, victor's read
    after the start does not either, and two reads on one brief never count a call twice."""
    other = make_user("olga", "Executive")
    c2 = known["c2"]
    add_read(c2.brief, other, NOW - 10 * D)
    read = metrics.drill_down(east_scope(east), "exec_read", NOW)
    assert titles(read) == ["c1"]
    add_read(c2.brief, victor, NOW - 9 * D + H)
    assert titles(metrics.drill_down(east_scope(east), "exec_read", NOW)) == ["c1"]
    ExecutiveRead.objects.filter(brief=c2.brief, user=victor).update(read_at=NOW - 9 * D - H)
    sync_call_facts([c2.pk])  # the update went around mark_briefed
    board = metrics.dashboard(east_scope(east), NOW)
    assert (board.total["exec_read"], board.total["exec_pool"]) == (2, 2)
    assert board.total.calls == 8
    assert titles(metrics.drill_down(east_scope(east), "exec_read", NOW)) == ["c1", "c2"]
    assert titles(metrics.drill_down(east_scope(east), "calls", NOW)).count("c2") == 1

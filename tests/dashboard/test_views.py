"""The dashboard over HTTP: access by role and team, drill-downs, CSV, htmx, nudges, queries."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callprep.briefs.models import BriefStatus
from callprep.dashboard.facts import sync_call_facts
from callprep.models import Call
from callprep.review import notify as N
from callprep.review.models import EmailMute, Notification, NotificationKind

from .conftest import add_call

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def leader(make_user):
    """The head of sales, as the demo's vp: an executive whose Sales leader role gives the
    ``view_all_teams`` permission (the whole organisation's dashboard)."""
    return make_user("lena", "Executive", "Sales leader")


DASH = "callprep:dashboard"
CALLS = "callprep:dashboard:calls"


def period(live_now) -> dict:
    return {
        "start": (live_now - timedelta(days=30)).date().isoformat(),
        "end": (live_now + timedelta(days=30)).date().isoformat(),
    }


def get(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_reps_and_users_without_a_role_get_403(client, alice, nobody, live_known):
    for user in (alice, nobody):
        assert get(client, user, DASH).status_code == 403
        assert get(client, user, CALLS, measure="on_time").status_code == 403
        assert get(client, user, "callprep:dashboard:reps_csv").status_code == 403


def test_a_manager_sees_only_their_teams_numbers(client, mallory, live_known, live_now):
    response = get(client, mallory, DASH, **period(live_now))
    assert response.status_code == 200
    board = response.context["board"]
    assert board.total.calls == 8
    assert {r.username for r in board.reps} == {"alice", "bob"}
    assert b"charlie" not in response.content.lower()


def test_a_manager_gets_404_for_another_teams_numbers_and_drill_downs(
    client, mallory, west, charlie, live_known, live_now
):
    assert get(client, mallory, DASH, team=west.pk).status_code == 404
    assert get(client, mallory, CALLS, measure="on_time", team=west.pk).status_code == 404
    assert get(client, mallory, CALLS, measure="on_time", rep=charlie.pk).status_code == 404
    assert get(client, mallory, DASH, rep=charlie.pk).status_code == 404
    assert get(client, mallory, "callprep:dashboard:reps_csv", team=west.pk).status_code == 404
    assert get(client, mallory, "callprep:dashboard:calls_csv", team=west.pk).status_code == 404


def test_a_manager_cannot_nudge_another_teams_call(client, mallory, live_known):
    client.force_login(mallory)
    response = client.post(reverse("callprep:dashboard:nudge", args=[live_known["w1"].pk]))
    assert response.status_code == 404


def test_the_other_teams_manager_sees_only_their_team(client, walter, live_known, live_now):
    board = get(client, walter, DASH, **period(live_now)).context["board"]
    assert board.total.calls == 1
    assert [r.username for r in board.reps] == ["charlie"]


def test_sales_leaders_and_admins_see_every_team(client, leader, ada, live_known, live_now):
    for user in (leader, ada):
        board = get(client, user, DASH, **period(live_now)).context["board"]
        assert board.total.calls == 9


def test_a_plain_executive_sees_only_the_calls_they_join(
    client, victor, east, live_known, live_now
):
    response = get(client, victor, DASH, **period(live_now))
    assert response.status_code == 200
    board = response.context["board"]
    assert board.total.calls == 3  # c1, c2 and c6 name victor; no other call counts
    assert {r.username for r in board.reps} == {"alice", "bob"}
    assert [c.title for c in board.overdue] == ["c6"]
    drilled = get(client, victor, CALLS, measure="calls", **period(live_now))
    assert sorted(r["call"].title for r in drilled.context["rows"]) == ["c1", "c2", "c6"]
    # No team to choose: naming one is naming what is not there.
    assert get(client, victor, DASH, team=east.pk).status_code == 404


def test_the_drill_down_lists_the_calls_behind_a_number(client, mallory, live_known, live_now):
    response = get(client, mallory, CALLS, measure="on_time", **period(live_now))
    assert response.status_code == 200
    assert sorted(r["call"].title for r in response.context["rows"]) == ["c1", "c2", "c7"]
    assert get(client, mallory, CALLS, measure="nonsense").status_code == 404


def test_the_rep_table_csv_has_one_row_per_rep(client, mallory, live_known, live_now):
    response = get(client, mallory, "callprep:dashboard:reps_csv", **period(live_now))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = {r["username"]: r for r in csv_rows(response)}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["calls"] == "5"
    assert (rows["alice"]["due_calls"], rows["alice"]["on_time"]) == ("4", "3")
    assert rows["alice"]["on_time_percent"] == "75"
    assert rows["alice"]["median_lead_time_hours"] == "60.0"
    assert rows["bob"]["on_time_percent"] == "0"
    assert rows["bob"]["median_lead_time_hours"] == ""


def test_the_drill_down_csv_lists_the_calls_and_defuses_formulas(
    client, mallory, acme, live_known, live_now
):
    add_call(
        acme, live_now - timedelta(days=2), title="=HYPERLINK(1)", brief=BriefStatus.APPROVED,
        approved_at=live_now - timedelta(days=5),
    )  # fmt: skip
    response = get(
        client, mallory, "callprep:dashboard:calls_csv", measure="on_time", **period(live_now)
    )
    rows = csv_rows(response)
    assert sorted(r["title"] for r in rows) == ["'=HYPERLINK(1)", "c1", "c2", "c7"]
    c2 = next(r for r in rows if r["title"] == "c2")
    assert (c2["brief_status"], c2["on_time"], c2["lead_time_hours"]) == ("Approved", "yes", "48.0")
    assert c2["completeness_percent"] == "100"


def test_the_dashboard_answers_htmx_with_the_body_partial_only(
    client, mallory, live_known, live_now
):
    client.force_login(mallory)
    full = client.get(reverse(DASH), period(live_now))
    partial = client.get(reverse(DASH), period(live_now), **HX)
    assert b"<html" in full.content and b'id="dashboard-body"' in full.content
    assert b"<html" not in partial.content
    assert partial.content.lstrip().startswith(b'<div id="dashboard-body"')
    # Back after the cache dropped the snapshot: htmx asks for the page and swaps the body.
    restored = client.get(
        reverse(DASH), period(live_now), **HX, HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert b"<html" in restored.content


def test_the_page_has_no_inline_scripts_or_styles_and_accessible_charts(
    client, mallory, live_known, live_now
):
    html = get(client, mallory, DASH, **period(live_now)).content.decode()
    assert " style=" not in html
    assert "<style" not in html
    assert " onclick=" not in html
    assert html.count('role="img"') == 3
    assert html.count("<title id=") == 3
    assert html.count('class="chart-data"') == 3
    for tag in html.split("<script")[1:]:
        assert 'src="' in tag.split(">")[0] and "nonce=" in tag.split(">")[0]


def test_every_hx_get_keeps_its_href(client, mallory, live_known, live_now):
    html = get(client, mallory, DASH, **period(live_now), sort="on_time").content.decode()
    links = [chunk for chunk in html.split("<a ")[1:] if "hx-get=" in chunk.split(">")[0]]
    assert links
    for chunk in links:
        tag = chunk.split(">")[0]
        assert tag.split('href="')[1].split('"')[0] == tag.split('hx-get="')[1].split('"')[0]


def test_the_rep_table_sorts_by_a_column(client, mallory, live_known, live_now):
    response = get(client, mallory, DASH, **period(live_now), sort="on_time", dir="desc")
    assert [r["rep"].username for r in response.context["rows"]] == ["alice", "bob"]
    response = get(client, mallory, DASH, **period(live_now), sort="on_time", dir="asc")
    assert [r["rep"].username for r in response.context["rows"]] == ["bob", "alice"]


def test_a_nudge_reminds_the_reviewer_of_an_overdue_submitted_brief_once_a_day(
    client, mallory, victor, live_known
):
    c6 = live_known["c6"]
    client.force_login(mallory)
    url = reverse("callprep:dashboard:nudge", args=[c6.pk])
    response = client.post(url, {"next": "/dashboard/?team=1"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/?team=1"
    sent = Notification.objects.filter(call=c6, kind=NotificationKind.NUDGE)
    assert [n.recipient for n in sent] == [victor]
    assert sent.get().actor == mallory

    client.post(url)  # a second nudge the same day sends nothing
    assert sent.count() == 1
    assert get(client, mallory, DASH).context["board"].overdue[0].reminded is True


def test_a_nudge_for_a_call_without_a_brief_reminds_the_rep(client, mallory, bob, acme, live_now):
    call = add_call(acme, live_now + timedelta(hours=20), owner=bob, title="no brief")
    client.force_login(mallory)
    client.post(
        reverse("callprep:dashboard:nudge", args=[call.pk]), {"next": "https://evil.example/"}
    )
    sent = Notification.objects.get(call=call)
    assert (sent.kind, sent.recipient) == (NotificationKind.NUDGE, bob)
    assert sent.get_kind_display() == "Nudge from your manager"


def test_a_nudge_is_muted_by_its_own_kind_and_not_by_the_reminders(
    client, mallory, victor, live_known, mailoutbox
):
    c6 = live_known["c6"]
    reminders = [NotificationKind.REMINDER_NO_BRIEF, NotificationKind.REMINDER_NOT_SUBMITTED]
    EmailMute.objects.bulk_create([EmailMute(user=victor, kind=k) for k in reminders])
    client.force_login(mallory)
    client.post(reverse("callprep:dashboard:nudge", args=[c6.pk]))
    nudge = Notification.objects.get(call=c6, kind=NotificationKind.NUDGE)
    assert N.send_email(nudge.pk) is True
    assert "Nudge from your manager" in mailoutbox[0].body

    Notification.objects.filter(pk=nudge.pk).update(emailed_at=None)
    EmailMute.objects.create(user=victor, kind=NotificationKind.NUDGE)
    assert N.send_email(nudge.pk) is False
    assert len(mailoutbox) == 1


def test_a_scheduled_reminder_in_the_last_day_counts_as_reminded_and_blocks_a_nudge(
    client, mallory, victor, live_known
):
    c6 = live_known["c6"]
    Notification.objects.create(
        recipient=victor,
        kind=NotificationKind.REMINDER_NOT_SUBMITTED,
        subject="Reminder",
        call=c6,
    )
    assert get(client, mallory, DASH).context["board"].overdue[0].reminded is True
    client.post(reverse("callprep:dashboard:nudge", args=[c6.pk]))
    assert not Notification.objects.filter(call=c6, kind=NotificationKind.NUDGE).exists()


def test_a_call_that_is_not_overdue_cannot_be_nudged(client, mallory, live_known):
    client.force_login(mallory)
    response = client.post(reverse("callprep:dashboard:nudge", args=[live_known["c8"].pk]))
    assert response.status_code == 302
    assert not Notification.objects.filter(call=live_known["c8"]).exists()


def test_a_plain_executive_nudges_only_the_calls_their_dashboard_lists(
    client, victor, bob, acme, live_known, live_now
):
    joined = add_call(
        acme, live_now + timedelta(hours=20), owner=bob, executive=victor, title="joined",
        brief=BriefStatus.DRAFT,
    )  # fmt: skip
    client.force_login(victor)
    assert joined in get(client, victor, DASH).context["board"].overdue
    client.post(reverse("callprep:dashboard:nudge", args=[joined.pk]))
    sent = Notification.objects.get(call=joined)
    assert (sent.kind, sent.recipient) == (NotificationKind.NUDGE, bob)
    # w1 is West's, and victor does not join it: as if it did not exist.
    response = client.post(reverse("callprep:dashboard:nudge", args=[live_known["w1"].pk]))
    assert response.status_code == 404


def test_reps_cannot_nudge(client, alice, live_known):
    client.force_login(alice)
    response = client.post(reverse("callprep:dashboard:nudge", args=[live_known["c6"].pk]))
    assert response.status_code == 403


def _bulk_calls(account, owner, count, live_now):
    from callprep.briefs.models import Brief

    calls = Call.objects.bulk_create(
        [
            Call(
                account=account, owner=owner, title=f"bulk {i}",
                ical_uid=f"bulk-{owner.pk}-{i}@test",
                starts_at=live_now - timedelta(days=i % 25, hours=i % 7),
                ends_at=live_now - timedelta(days=i % 25, hours=i % 7) + timedelta(hours=1),
            )
            for i in range(count)
        ]
    )  # fmt: skip
    Brief.objects.bulk_create(
        [
            Brief(
                call=c, status=BriefStatus.APPROVED,
                approved_at=c.starts_at - timedelta(hours=50 + i % 30),
            )
            for i, c in enumerate(calls)
            if i % 3
        ]
    )  # fmt: skip
    # Bulk writes go around the service functions: write the calls' facts as they would.
    sync_call_facts([c.pk for c in calls])


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_query_count_is_the_same_for_10_and_1000_calls(
    client, mallory, alice, bob, acme, live_now
):
    client.force_login(mallory)
    url = reverse(DASH)
    _bulk_calls(acme, alice, 10, live_now)
    client.get(url)  # warm the session and caches
    small = queries_for(client, url)
    _bulk_calls(acme, bob, 990, live_now)
    assert queries_for(client, url) == small
    assert small <= 12


def test_the_page_shows_the_headline_numbers(client, mallory, live_known, live_now):
    html = get(client, mallory, DASH, **period(live_now)).content.decode()
    assert 'data-testid="on-time-share">43%<' in html
    assert 'data-testid="lead-median">2.5 days<' in html
    assert 'data-testid="prepared-share">67%<' in html
    assert 'data-testid="completeness">78%<' in html


def test_the_whole_organisation_is_one_row_per_team_drilling_down_to_its_reps(
    client, leader, east, west, live_known, live_now
):
    response = get(client, leader, DASH, **period(live_now))
    board = response.context["board"]
    assert board.reps == []
    teams = {t.name: t.figures for t in board.teams}
    assert set(teams) == {"East", "West"}
    assert (teams["East"].calls, teams["East"]["due"], teams["East"]["on_time"]) == (8, 7, 3)
    assert (teams["East"].sections_complete, teams["East"].sections_total) == (38, 49)
    assert teams["East"].lead_p50 == pytest.approx(60.0)
    assert (teams["West"].calls, teams["West"]["on_time"]) == (1, 1)
    assert sum(f.calls for f in teams.values()) == board.total.calls == 9
    html = response.content.decode()
    assert "By team" in html and f'data-team="{east.pk}"' in html
    east_row = next(r for r in response.context["rows"] if r["group"].team_id == east.pk)
    assert f"team={east.pk}" in east_row["filter_url"]
    # The team's page is the per-rep table again; its drill-downs keep the team.
    drilled = client.get(east_row["filter_url"])
    assert {r.username for r in drilled.context["board"].reps} == {"alice", "bob"}
    assert drilled.context["board"].teams is None
    on_time = client.get(east_row["links"]["on_time"])
    assert sorted(r["call"].title for r in on_time.context["rows"]) == ["c1", "c2", "c7"]


def test_a_rep_filter_on_the_whole_organisation_shows_the_rep_table(
    client, leader, charlie, live_known, live_now
):
    board = get(client, leader, DASH, rep=charlie.pk, **period(live_now)).context["board"]
    assert board.teams is None
    assert [r.username for r in board.reps] == ["charlie"]


def test_the_rep_csv_of_the_whole_organisation_still_lists_every_rep(
    client, leader, live_known, live_now
):
    response = get(client, leader, "callprep:dashboard:reps_csv", **period(live_now))
    rows = {r["username"]: r for r in csv_rows(response)}
    assert set(rows) == {"alice", "bob", "charlie"}
    assert rows["charlie"]["on_time"] == "1"


def test_the_query_count_of_the_whole_organisation_is_the_same_for_10_and_1000_calls(
    client, leader, alice, bob, acme, live_now
):
    client.force_login(leader)
    url = reverse(DASH)
    _bulk_calls(acme, alice, 10, live_now)
    client.get(url)
    small = queries_for(client, url)
    _bulk_calls(acme, bob, 990, live_now)
    assert queries_for(client, url) == small
    assert small <= 12

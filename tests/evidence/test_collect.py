"""Collection as domain functions: runs, skips, claims, idempotent upserts, sweeps, triggers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account
from callprep.evidence import collect
from callprep.evidence.models import CollectionRun, Evidence, RunState, SeriesCache, SourceRun
from callprep.sources import EvidenceRow

from .conftest import fail

pytestmark = pytest.mark.django_db


def states(run: CollectionRun) -> dict[str, str]:
    return {s.source: s.state for s in run.sources.all()}


def run_all(run: CollectionRun) -> dict[str, str]:
    for source_run in run.sources.filter(state=RunState.QUEUED):
        collect.collect_source(source_run.pk)
    run.refresh_from_db()
    return states(run)


def test_starting_a_collection_queues_each_source_on_commit(
    northwind, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(collect, "_enqueue", lambda ids: enqueued.extend(ids))
    with django_capture_on_commit_callbacks(execute=True):
        run = collect.start_collection(northwind, trigger="manual")
        assert enqueued == []  # nothing leaves before the commit
    assert states(run) == {
        "sec": "queued",
        "fred": "queued",
        "worldbank": "skipped",
        "news": "queued",
        "website": "queued",
    }
    assert sorted(enqueued) == sorted(
        run.sources.filter(state=RunState.QUEUED).values_list("pk", flat=True)
    )
    assert run.sources.get(source="worldbank").reason == (
        "US company — World Bank indicators are for non-US customers"
    )


def test_sources_that_do_not_apply_are_skipped_with_a_reason(alice, settings, monkeypatch):
    monkeypatch.setattr(collect, "_enqueue", lambda ids: None)
    settings.EVIDENCE_TRANSPORT = "live"  # nothing is fetched: the skips are decided up front
    settings.SEC_CONTACT_EMAIL = ""
    private = Account.objects.create(name="Quiet Private Co", owner=alice)
    run = collect.start_collection(private)
    reasons = {s.source: (s.state, s.reason) for s in run.sources.all()}
    assert reasons["sec"] == ("skipped", "no ticker")
    assert reasons["website"] == ("skipped", "no website")
    assert reasons["worldbank"] == ("skipped", "no country on the account")
    listed = Account.objects.create(name="Listed Co", ticker="NWRB", owner=alice)
    run = collect.start_collection(listed)
    assert run.sources.get(source="sec").reason == (
        "no SEC contact e-mail configured — an admin sets it on the Settings page"
    )


def test_a_second_start_while_a_run_is_open_returns_the_same_run(northwind):
    first = collect.start_collection(northwind)
    assert collect.start_collection(northwind) == first
    assert CollectionRun.objects.count() == 1


def test_every_source_succeeds_from_the_recordings(halvorsen):
    run = collect.start_collection(halvorsen)
    assert set(run_all(run).values()) == {"succeeded"}
    assert run.finished_at is not None
    kinds = set(Evidence.objects.filter(account=halvorsen).values_list("kind", flat=True))
    assert kinds == {"financial", "filing", "indicator", "news", "web", "reference"}
    fred = run.sources.get(source="fred")
    assert "no FRED key — using the CSV download" in fred.reason
    revenue = Evidence.objects.get(account=halvorsen, metric="revenue", period_end="2023-12-31")
    assert revenue.unit == "EUR"
    assert revenue.url.startswith("https://www.sec.gov/")


def test_running_a_source_twice_does_nothing_the_second_time(northwind):
    run = collect.start_collection(northwind)
    sec = run.sources.get(source="sec")
    assert collect.collect_source(sec.pk) == "succeeded"
    count = Evidence.objects.count()
    assert collect.collect_source(sec.pk) == ""
    sec.refresh_from_db()
    assert sec.attempts == 1
    assert Evidence.objects.count() == count


def test_two_runs_leave_the_same_evidence(northwind):
    run_all(collect.start_collection(northwind))
    first = sorted(Evidence.objects.values_list("pk", "source", "key", "value"))
    CollectionRun.objects.update(created_at=timezone.now() - timedelta(days=2))
    run_all(collect.start_collection(northwind))
    assert sorted(Evidence.objects.values_list("pk", "source", "key", "value")) == first
    assert CollectionRun.objects.count() == 2


def test_fred_series_are_downloaded_once_a_day_for_every_account(northwind, halvorsen):
    run_all(collect.start_collection(northwind))
    run_all(collect.start_collection(halvorsen))
    assert SeriesCache.objects.filter(name="fred:FEDFUNDS").count() == 1
    assert Evidence.objects.filter(series="FEDFUNDS").values("account").distinct().count() == 2


def row(key: str, value: str, **extra) -> EvidenceRow:
    return EvidenceRow(
        kind="financial",
        source="sec-companyfacts",
        key=key,
        label=f"Revenue {key}",
        metric="revenue",
        value=Decimal(value),
        unit="USD",
        period_end=date(2024, 6, 30),
        **extra,
    )


def test_storing_a_row_again_replaces_it(northwind):
    collect.store_rows(northwind, "sec", [row("revenue:2024-06-30", "100")])
    original = Evidence.objects.get()
    collect.store_rows(northwind, "sec", [row("revenue:2024-06-30", "120")])
    restated = Evidence.objects.get()
    assert restated.pk == original.pk
    assert restated.value == Decimal("120")


def test_rows_a_source_no_longer_returns_are_dropped(northwind, halvorsen):
    collect.store_rows(northwind, "sec", [row("a", "1"), row("b", "2")])
    collect.store_rows(halvorsen, "sec", [row("a", "1")])
    collect.store_rows(northwind, "sec", [row("b", "3")])
    assert list(Evidence.objects.filter(account=northwind).values_list("key", flat=True)) == ["b"]
    assert Evidence.objects.filter(account=halvorsen).count() == 1


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ({"status": 500}, "SEC EDGAR had a server error (500) (tried 2 times)"),
        ({"status": 429}, "SEC EDGAR is limiting our requests (429 Too Many Requests)"),
        ({"timeout": True}, "SEC EDGAR took too long to answer (tried 2 times)"),
        ({"body": "<html><body>Oops</body></html>"}, "SEC submissions returned a web page"),
        ({"status": 404}, "SEC EDGAR has no data at this address (404)"),
    ],
)
def test_a_failing_source_ends_failed_with_a_readable_reason(northwind, settings, route, reason):
    settings.EVIDENCE_REPLAY_ROUTES = [fail("data.sec.gov", **route)]
    run = collect.start_collection(northwind)
    result = run_all(run)
    assert result["sec"] == "failed"
    assert reason in run.sources.get(source="sec").reason
    assert {result[s] for s in ("fred", "news", "website")} == {"succeeded"}
    assert run.finished_at is not None
    assert not Evidence.objects.filter(collector="sec").exists()


def test_a_transient_failure_queues_the_source_again_when_retries_remain(northwind, settings):
    settings.EVIDENCE_REPLAY_ROUTES = [fail("data.sec.gov", status=503)]
    run = collect.start_collection(northwind)
    sec = run.sources.get(source="sec")
    with pytest.raises(collect.clients.TransientFailure):
        collect.collect_source(sec.pk, final_attempt=False)
    sec.refresh_from_db()
    assert sec.state == "queued"
    assert sec.reason.startswith("Retrying: SEC EDGAR had a server error (503)")
    settings.EVIDENCE_REPLAY_ROUTES = []
    assert collect.collect_source(sec.pk) == "succeeded"
    sec.refresh_from_db()
    assert sec.attempts == 2


def test_an_unknown_ticker_fails_with_what_to_check(alice):
    account = Account.objects.create(name="Nobody Listed", ticker="ZZZZ", owner=alice)
    run = collect.start_collection(account, sources=["sec"])
    assert run_all(run) == {"sec": "failed"}
    assert "lists no company with the ticker ZZZZ" in run.sources.get().reason


def test_the_sweep_re_enqueues_runs_that_never_started_once(northwind, monkeypatch):
    enqueued = []
    monkeypatch.setattr(collect, "_enqueue", lambda ids: enqueued.extend(ids))
    run = collect.start_collection(northwind)
    assert collect.sweep_stale_runs() == 0  # just queued: the task may still arrive
    later = timezone.now() + timedelta(minutes=5)
    assert collect.sweep_stale_runs(now=later) == 4
    assert collect.sweep_stale_runs(now=later) == 0  # running it twice does nothing more
    assert sorted(enqueued) == sorted(
        run.sources.filter(state="queued").values_list("pk", flat=True)
    )


def test_the_sweep_recovers_a_source_whose_worker_died(northwind, monkeypatch):
    enqueued = []
    monkeypatch.setattr(collect, "_enqueue", lambda ids: enqueued.extend(ids))
    run = collect.start_collection(northwind, sources=["news"])
    news = run.sources.get()
    SourceRun.objects.filter(pk=news.pk).update(
        state="running", started_at=timezone.now() - timedelta(minutes=30), attempts=1
    )
    assert collect.sweep_stale_runs() == 1
    news.refresh_from_db()
    assert news.state == "queued"
    assert enqueued == [news.pk]
    SourceRun.objects.filter(pk=news.pk).update(
        state="running", started_at=timezone.now() - timedelta(minutes=30), attempts=4
    )
    collect.sweep_stale_runs()
    news.refresh_from_db()
    assert news.state == "failed"
    assert "worker stopped" in news.reason


def test_accounts_with_a_call_this_week_and_old_evidence_are_refreshed(
    northwind, halvorsen, make_call, monkeypatch
):
    monkeypatch.setattr(collect, "_enqueue", lambda ids: None)
    make_call(northwind, days=3)
    make_call(halvorsen, days=10)
    assert collect.refresh_due_accounts() == 1
    assert collect.refresh_due_accounts() == 0  # running it twice starts nothing more
    CollectionRun.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert collect.refresh_due_accounts() == 1
    assert set(CollectionRun.objects.values_list("account", flat=True)) == {northwind.pk}


def test_changing_the_ticker_starts_a_collection_but_the_description_does_not(
    northwind, monkeypatch
):
    monkeypatch.setattr(collect, "_enqueue", lambda ids: None)
    assert collect.account_changed(northwind, ["description"]) is None
    run = collect.account_changed(northwind, ["ticker"])
    assert run.trigger == "account_change"


def test_every_demo_company_collects_from_the_recordings_without_settings(alice, settings):
    from callprep.demo.load import collect_demo_evidence, companies

    settings.SEC_CONTACT_EMAIL = ""
    accounts = [Account.objects.create(owner=alice, **spec) for spec in companies()]
    for run in collect_demo_evidence(accounts):
        outcome = run_all(run)
        assert "failed" not in outcome.values(), [str(s) for s in run.sources.all()]
        assert outcome["news"] == outcome["website"] == outcome["fred"] == "succeeded"
    bluebird = accounts[2].collection_runs.get().sources.get(source="sec")
    assert (bluebird.state, bluebird.reason) == ("skipped", "no ticker")

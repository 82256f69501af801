"""PostgreSQL terminates every connection to the database while the app is under load.

The web side runs under gunicorn (threads, persistent connections with health checks, as in
production) and the worker side as a real Celery worker; client threads keep opening My calls
and autosaving brief sections while the test terminates all their backends, twice.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.utils.crypto import get_random_string

from callprep.briefs.models import BriefSection
from callprep.briefs.services import start_brief
from callprep.evidence import collect
from callprep.models import WorkerHeartbeat
from callprep.tasks import record_worker_heartbeat

from .conftest import free_port, process_env, wait_until
from .evidence import all_runs_finished, check_one_set, make_accounts, make_call, open_sources

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECTIONS = ["business_challenges", "industry_dynamics", "financial_condition", "value_hypothesis"]
TERMINATIONS = 3


def terminate_backends() -> int:
    """Terminate every other connection to the test database and wait until they are gone;
    returns how many there were."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(pid) FILTER (WHERE pg_terminate_backend(pid)) "
            "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        pids = cursor.fetchone()[0] or []

        def gone():
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
            return cursor.fetchone()[0] == 0

        wait_until(
            gone, timeout=10, message=f"terminated backends {pids} did not exit", interval=0.01
        )
    return len(pids)


@dataclass
class Outcome:
    what: str
    started: float
    ended: float
    status: int | str  # the HTTP status, or the error's class name


@dataclass
class Editor:
    """A client thread: opens My calls and autosaves its own section, over and over."""

    base_url: str
    cookies: dict[str, str]
    brief_pk: int
    key: str
    outcomes: list[Outcome] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    text: str = ""
    version: int = 0
    saves: int = 0

    def reload(self) -> None:
        """After a failed save: continue from what the database holds (it may have saved)."""
        connections.close_all()  # this thread's connection may be one that was terminated
        stored = BriefSection.objects.get(brief_id=self.brief_pk, key=self.key)
        self.text, self.version = stored.text, stored.version

    def request(self, client: httpx.Client, what: str, method: str, url: str, **kwargs):
        started = time.monotonic()
        try:
            response = client.request(method, url, **kwargs)
            status: int | str = response.status_code
        except httpx.HTTPError as exc:
            response, status = None, exc.__class__.__name__
        self.outcomes.append(Outcome(what, started, time.monotonic(), status))
        return response if status == 200 else None

    def step(self, client: httpx.Client) -> None:
        self.request(client, "my calls", "GET", "/calls/mine/")
        self.saves += 1
        token = f"{self.key}-{self.saves}"
        text = f"{self.text} {token}".strip()
        response = self.request(
            client,
            "autosave",
            "POST",
            f"/briefs/{self.brief_pk}/sections/{self.key}/",
            data={"text": text, "base_version": str(self.version)},
            headers={"HX-Request": "true"},
        )
        if response is None:
            self.reload()
            return
        self.acknowledged.append(token)
        self.text, self.version = text, int(response.headers["X-Section-Version"])

    def run(self, stop: threading.Event, steps: int | None = None) -> None:
        csrf = self.cookies["csrftoken"]
        with httpx.Client(
            base_url=self.base_url,
            cookies=self.cookies,
            headers={"X-CSRFToken": csrf},
            timeout=15,
        ) as client:
            try:
                self.reload()
                done = 0
                while not stop.is_set() and (steps is None or done < steps):
                    self.step(client)
                    done += 1
            finally:
                connections.close_all()


def session_cookies(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        "csrftoken": get_random_string(32),
    }


def run_editors(editors: list[Editor], *, seconds: float | None = None, steps=None, during=None):
    stop = threading.Event()
    threads = [threading.Thread(target=e.run, args=(stop, steps), daemon=True) for e in editors]
    for thread in threads:
        thread.start()
    if during is not None:
        during()
    if seconds is not None:
        time.sleep(seconds)
        stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a client thread hung"


def test_terminated_database_connections_fail_only_the_requests_in_flight(
    alice, private_redis, processes, tally
):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    account = make_accounts(alice, 1)[0]
    brief = start_brief(make_call(account), by=alice, collect_evidence=False)
    port = free_port()
    env = process_env(
        private_redis.url,
        FAULTS_CONN_MAX_AGE=60,  # production keeps connections; they are what gets terminated
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,  # the session cookie made here must be valid there
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
    )
    web = processes.process(
        "gunicorn",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "salesprep.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--timeout",
            "30",
        ],
        env,
    )
    worker = processes.worker("db-faults", env, pool="solo", n=1)
    base_url = f"http://127.0.0.1:{port}"

    def web_ready():
        try:
            return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(web_ready, timeout=45, message=lambda: f"gunicorn did not start:\n{web.tail()}")
    # The worker holds a connection from a first task, as a long-running worker does.
    record_worker_heartbeat.delay("before-termination")
    wait_until(
        lambda: WorkerHeartbeat.objects.filter(name="before-termination").exists(),
        timeout=30,
        message=lambda: f"the worker ran no task:\n{worker.tail()}",
    )

    cookies = session_cookies(alice)
    editors = [Editor(base_url, cookies, brief.pk, key) for key in SECTIONS]
    terminations: list[tuple[float, float]] = []  # when each round began and ended
    terminated = 0

    def inject():
        nonlocal terminated
        for _ in range(TERMINATIONS):
            time.sleep(1.5)
            began = time.monotonic()
            terminated += terminate_backends()
            terminations.append((began, time.monotonic()))
        time.sleep(1.5)

    run_editors(editors, seconds=0.0, during=inject)
    tally.fault("pg_terminate_backend of every connection (rounds)", TERMINATIONS)
    assert terminated >= TERMINATIONS, "nothing was connected to terminate; nothing tested"

    # Afterwards every request succeeds: the web processes and the worker reconnect.
    after = [Editor(base_url, cookies, brief.pk, key) for key in SECTIONS]
    run_editors(after, steps=5)
    record_worker_heartbeat.delay("after-termination")
    run = collect.start_collection(account, sources=["news", "website"])
    wait_until(
        lambda: (
            WorkerHeartbeat.objects.filter(name="after-termination").exists()
            and all_runs_finished([account])
        ),
        timeout=30,
        message=lambda: f"the worker did not recover: {open_sources()}\n{worker.tail()}",
    )

    outcomes = [o for e in editors for o in e.outcomes]
    failed = [o for o in outcomes if o.status != 200]
    in_flight = [
        o
        for o in failed
        if any(o.started <= end and o.ended >= begin for begin, end in terminations)
    ]
    later_failures = [o for e in after for o in e.outcomes if o.status != 200]
    lost = [
        token
        for e in editors + after
        for token in e.acknowledged
        if token not in BriefSection.objects.get(brief=brief, key=e.key).text.split()
    ]
    tally.loss("acknowledged autosaves lost", len(lost))
    tally.loss("failed requests not in flight at a termination", len(failed) - len(in_flight))
    tally.loss("failed requests after the terminations", len(later_failures))
    tally.note(
        f"{terminated} connections terminated; "
        f"{len(outcomes)} requests under load, {len(failed)} failed "
        f"({len(in_flight)} of them in flight at a termination; statuses "
        f"{sorted({str(o.status) for o in failed})}); "
        f"{sum(len(e.acknowledged) for e in editors + after)} autosaves acknowledged"
    )

    def explain(failures: list[Outcome]) -> str:
        first = terminations[0][0]
        rows = [
            f"  {o.what} {o.status} at +{o.started - first:.2f}..{o.ended - first:.2f} s"
            for o in failures
        ]
        windows = [f"+{b - first:.2f}..{e - first:.2f} s" for b, e in terminations]
        errors = sorted({line for line in web.log().splitlines() if line.startswith("django.db.")})
        return "\n".join(
            [f"terminations at {windows}", *rows[:20], "errors in the web log:", *errors]
        )

    assert len(outcomes) > 40, f"too little load to mean anything: {len(outcomes)} requests"
    assert failed == in_flight, f"failures outside the terminations:\n{explain(failed)}"
    assert len(failed) <= len(editors) * TERMINATIONS, explain(failed)
    assert not later_failures, f"failures after the terminations:\n{explain(later_failures)}"
    assert not lost, f"acknowledged autosaves missing from the database: {lost}"
    problems, _, _ = check_one_set([account])
    assert not problems, problems
    assert run.sources.count() == 2

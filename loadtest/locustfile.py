"""The SalesPrep load test: 20 reps autosaving and browsing, 3 managers on the dashboard,
2 executives reading. Run it through ``loadtest/run.py`` (which starts gunicorn, a Celery worker
and the data); see docs/loadtest.md.

Every user signs in through the real login form (CSRF token from the page) and then only
follows links the pages show: ids come from the HTML, never from the database.

The server runs with production settings (DEBUG off, SSL redirect, secure cookies). The load
generator plays the TLS-terminating proxy in front of gunicorn: it sends
``X-Forwarded-Proto: https`` (believed: run.py sets ``BEHIND_HTTPS_PROXY``) and the ``Origin``
a browser sends with a POST, and its cookie jar returns the ``Secure`` cookies over the
plain-http hop.

Environment: ``LOADTEST_REPS`` / ``LOADTEST_MANAGERS`` / ``LOADTEST_EXECUTIVES`` (20 / 3 / 2),
``LOADTEST_PASSWORD``, and ``LOADTEST_SAMPLES``: a file to which every request is appended as a
JSON line (start time, name, milliseconds, error) as it ends, for exact percentiles; a user
that has signed in and found its pages adds a "READY" line.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import json
import os
import random
import re
import time
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.exception import StopUser

PASSWORD = os.environ.get("LOADTEST_PASSWORD", "loadtest-password")
REPS = int(os.environ.get("LOADTEST_REPS", "20"))
MANAGERS = int(os.environ.get("LOADTEST_MANAGERS", "3"))
EXECUTIVES = int(os.environ.get("LOADTEST_EXECUTIVES", "2"))
SAMPLES = os.environ.get("LOADTEST_SAMPLES", "")

# Sections written as free prose (the structured ones post their fields too).
PROSE_SECTIONS = (
    "business_challenges",
    "industry_dynamics",
    "financial_condition",
    "economic_drivers",
    "value_hypothesis",
)
MEASURES = ("calls", "due", "on_time", "prepared", "held", "with_brief", "overdue")
KINDS = ("", "discovery", "executive_visit", "business_review")
SORTS = ("name", "calls", "prepared", "on_time", "lead", "completeness")

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_INPUT = re.compile(r'name="base_version" value="(\d+)" id="version-([a-z_]+)"')
TEAM_SELECT = re.compile(r'<select id="f-team" name="team">(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="(\d+)"')

WORDS = [
    "revenue", "margin", "cash", "churn", "pricing", "procurement", "regulation", "supplier",
    "logistics", "demand", "inflation", "hiring", "automation", "customers", "board", "budget",
    "renewal", "competitor", "platform", "risk", "growth", "expansion", "consolidation",
    "compliance", "audit", "forecast", "pipeline",
]  # fmt: skip

_out = open(SAMPLES, "a", encoding="utf-8", buffering=1) if SAMPLES else None  # noqa: SIM115


def note(name: str, method: str, started: float, ms: float, error: str | None = None) -> None:
    """One line per request (and per user ready or given up), written at once: the runner
    follows the file to see when every user has signed in, and cuts out the measured window."""
    if _out is not None:
        line = {"t": round(started, 4), "name": name, "method": method, "ms": round(ms, 3)}
        _out.write(json.dumps({**line, "error": error}) + "\n")


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    error = None if exception is None else f"{type(exception).__name__}: {exception}"[:300]
    note(name, request_type, time.time() - response_time / 1000, response_time, error)


@events.user_error.add_listener
def _user_error(user_instance, exception, tb, **kwargs):
    """An exception in a user's code (a page without the link it needs…) is an error too."""
    note("user code", "EXCEPTION", time.time(), 0.0, f"{type(exception).__name__}: {exception}")


def _secure_ok(policy, cookie, request) -> bool:
    """Return ``Secure`` cookies over the plain-http hop on loopback, as the TLS proxy would.

    requests builds a fresh cookie jar (with the default policy) for every request and redirect,
    so the policy is widened here, in the load generator's process only.
    """
    host = urlsplit(request.get_full_url()).hostname
    return request.type in ("https", "wss") or host in ("127.0.0.1", "localhost", "::1")


http.cookiejar.DefaultCookiePolicy.return_ok_secure = _secure_ok


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


class SalesPrepUser(HttpUser):
    """Signs in through the login form; then behaves like a browser behind the TLS proxy."""

    abstract = True
    username_pattern = ""
    numbering: itertools.count

    def on_start(self) -> None:
        host = urlsplit(self.host)
        self.origin = f"https://{host.netloc}"
        self.client.headers["X-Forwarded-Proto"] = "https"
        self.rng = random.Random()
        self.username = self.username_pattern.format(next(self.numbering))
        self.login()

    # How many times the user runs through every one of its tasks before it reports ready: the
    # first request of a kind in a gunicorn worker compiles templates and imports code, growth
    # that belongs to the warm-up, not to the measured window (reps are many, so once will do).
    tour_rounds = 1

    def tour(self) -> list:
        """What ``ready`` runs: each task once, in declaration order."""
        return list(dict.fromkeys(self.tasks))

    def ready(self) -> None:
        kinds = self.tour()
        for _ in range(self.tour_rounds):
            self.rng.shuffle(kinds)
            for run_task in kinds:
                run_task(self)
        note("user ready", "READY", time.time(), 0.0)

    def login(self) -> None:
        page = self.client.get("/auth/login/", name="login form")
        match = CSRF_INPUT.search(page.text)
        with self.client.post(
            "/auth/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": match.group(1) if match else "",
                "next": "",
            },
            headers=self.post_headers("/auth/login/"),
            name="login",
            catch_response=True,
        ) as response:
            if "/auth/login/" in response.url:
                response.failure(f"{self.username} could not sign in ({response.status_code})")
            self.home = response

    def post_headers(self, referer_path: str, *, htmx: bool = False) -> dict[str, str]:
        headers = {
            "Origin": self.origin,
            "Referer": self.origin + referer_path,
            "X-CSRFToken": self.client.cookies.get("csrftoken", ""),
        }
        if htmx:
            headers["HX-Request"] = "true"
            headers["HX-Current-URL"] = self.origin + referer_path
        return headers

    def give_up(self, message: str) -> None:
        """A user that cannot start is an error of the run, not just a line in locust's log."""
        note("user start", "START", time.time(), 0.0, message)
        raise StopUser()

    def ids(self, pattern: str, text: str) -> list[str]:
        return sorted(set(re.findall(pattern, text)))


class RepUser(SalesPrepUser):
    """Writes their own brief (autosave while typing, previews) and browses calls and accounts."""

    fixed_count = REPS
    wait_time = between(1, 3)
    username_pattern = "lt-rep-{:02d}"
    numbering = itertools.count(1)

    def on_start(self) -> None:
        super().on_start()
        calls = self.home  # the login lands on My calls
        self.accounts = self.ids(r'href="/accounts/(\d+)/"', calls.text)
        self.calls = self.ids(r'href="/calls/(\d+)/"', calls.text)
        match = re.search(
            r'href="/calls/(\d+)/">Load test visit ' + re.escape(self.username) + "<", calls.text
        )
        if match is None:
            self.give_up(f"{self.username}: no load-test call on My calls")
        editor = self.client.get(
            f"/briefs/call/{match.group(1)}/", name="/briefs/call/[id]/ (open brief)"
        )
        found = re.search(r"/briefs/(\d+)/edit/", editor.url)
        if found is None:
            self.give_up(f"{self.username}: the brief did not open in the editor")
        self.brief = found.group(1)
        self.versions = {key: int(v) for v, key in VERSION_INPUT.findall(editor.text)}
        self.texts = {key: paragraph(self.rng, 40) for key in PROSE_SECTIONS}
        self.ready()

    @task(8)
    def autosave(self) -> None:
        """What htmx posts 1.2 s after the rep stops typing: the whole section text."""
        key = self.rng.choice(PROSE_SECTIONS)
        text = self.texts[key]
        if len(text) > 4000:  # the rep rewrites the section instead of growing it forever
            text = paragraph(self.rng, 40)
        text += " " + paragraph(self.rng, self.rng.randint(5, 25))
        self.texts[key] = text
        url = f"/briefs/{self.brief}/sections/{key}/"
        headers = self.post_headers(f"/briefs/{self.brief}/edit/", htmx=True)
        headers["HX-Target"] = f"status-{key}"
        with self.client.post(
            url,
            data={"text": text, "base_version": self.versions.get(key, 1)},
            headers=headers,
            name="/briefs/[id]/sections/[key]/ (autosave)",
            catch_response=True,
        ) as response:
            if response.status_code == 409:
                response.failure(f"conflict saving {key}: nobody else edits this brief")
            elif response.ok:
                version = response.headers.get("X-Section-Version", "")
                if version.isdigit():
                    self.versions[key] = int(version)
                else:
                    response.failure("autosave answered without X-Section-Version")

    @task(3)
    def preview(self) -> None:
        key = self.rng.choice(PROSE_SECTIONS)
        headers = self.post_headers(f"/briefs/{self.brief}/edit/", htmx=True)
        headers["HX-Target"] = f"preview-{key}"
        self.client.post(
            f"/briefs/{self.brief}/sections/{key}/preview/",
            data={"text": self.texts[key] + " *draft*"},
            headers=headers,
            name="/briefs/[id]/sections/[key]/preview/",
        )

    @task(2)
    def my_calls(self) -> None:
        self.client.get("/calls/mine/", name="/calls/mine/")

    @task(1)
    def editor(self) -> None:
        response = self.client.get(f"/briefs/{self.brief}/edit/", name="/briefs/[id]/edit/")
        # The reloaded page carries the stored versions (the same as ours: nobody else edits).
        self.versions.update({key: int(v) for v, key in VERSION_INPUT.findall(response.text)})

    @task(1)
    def section_card(self) -> None:
        key = self.rng.choice(PROSE_SECTIONS)
        self.client.get(
            f"/briefs/{self.brief}/sections/{key}/",
            headers={"HX-Request": "true"},
            name="/briefs/[id]/sections/[key]/ (htmx card)",
        )

    @task(1)
    def account_list(self) -> None:
        self.client.get("/accounts/", name="/accounts/")

    @task(2)
    def account_detail(self) -> None:
        if self.accounts:
            pk = self.rng.choice(self.accounts)
            self.client.get(f"/accounts/{pk}/", name="/accounts/[id]/")

    @task(1)
    def call_detail(self) -> None:
        if self.calls:
            pk = self.rng.choice(self.calls)
            self.client.get(f"/calls/{pk}/", name="/calls/[id]/")


class RoundUser(SalesPrepUser):
    """A user who works through the pages in a fixed round, as a person does, rather than by
    weighted picks: every page of the round appears in every window, however short (a short
    CI run once drew no executive view at all). Each user starts the round at step 0."""

    abstract = True
    ROUND: tuple[str, ...] = ()

    def on_start(self) -> None:
        self.steps_done = 0
        super().on_start()

    def tour(self) -> list:
        return [getattr(type(self), name) for name in dict.fromkeys(self.ROUND)]

    @task
    def work(self) -> None:
        step = self.ROUND[self.steps_done % len(self.ROUND)]
        self.steps_done += 1
        getattr(self, step)()


class ManagerUser(RoundUser):
    """The prep dashboard with filters, its drill-downs and the CSV exports."""

    ROUND = (
        "dashboard", "drill_down", "dashboard_filtered", "drill_down", "dashboard_sorted",
        "calls_csv", "dashboard", "drill_down", "dashboard_filtered", "reps_csv",
    )  # fmt: skip

    fixed_count = MANAGERS
    wait_time = between(2, 5)
    username_pattern = "lt-manager-{}"
    numbering = itertools.count(1)
    tour_rounds = 3

    def on_start(self) -> None:
        super().on_start()
        select = TEAM_SELECT.search(self.home.text)  # the login lands on the dashboard
        self.teams = OPTION.findall(select.group(1)) if select else []
        self.ready()

    def filters(self) -> dict[str, str]:
        params = {}
        if self.teams and self.rng.random() < 0.5:
            params["team"] = self.rng.choice(self.teams)
        kind = self.rng.choice(KINDS)
        if kind:
            params["kind"] = kind
        return params

    def dashboard(self) -> None:
        self.client.get("/dashboard/", name="/dashboard/")

    def dashboard_filtered(self) -> None:
        self.client.get("/dashboard/", params=self.filters(), name="/dashboard/?filters")

    def dashboard_sorted(self) -> None:
        params = {**self.filters(), "sort": self.rng.choice(SORTS), "dir": "desc"}
        self.client.get(
            "/dashboard/",
            params=params,
            headers={"HX-Request": "true", "HX-Target": "dashboard-body"},
            name="/dashboard/?sort (htmx)",
        )

    def drill_down(self) -> None:
        params = {**self.filters(), "measure": self.rng.choice(MEASURES)}
        self.client.get("/dashboard/calls/", params=params, name="/dashboard/calls/ (drill-down)")

    def calls_csv(self) -> None:
        params = {**self.filters(), "measure": self.rng.choice(MEASURES)}
        self.client.get("/dashboard/calls.csv", params=params, name="/dashboard/calls.csv")

    def reps_csv(self) -> None:
        self.client.get("/dashboard/reps.csv", params=self.filters(), name="/dashboard/reps.csv")


class ExecutiveUser(RoundUser):
    """The review queue, briefs on the executive view and the read view, notifications."""

    ROUND = (
        "queue", "executive_view", "read_view", "queue_by_team",
        "executive_view", "review_page", "notifications", "executive_view",
    )  # fmt: skip

    fixed_count = EXECUTIVES
    wait_time = between(2, 5)
    username_pattern = "lt-exec-{}"
    numbering = itertools.count(1)
    tour_rounds = 3

    def on_start(self) -> None:
        super().on_start()
        self.read_queue(self.home.text)  # the login lands on the review queue
        self.ready()

    def read_queue(self, html: str) -> None:
        self.briefs = self.ids(r'href="/briefs/(\d+)/executive/"', html)
        self.teams = OPTION.findall(html)

    def queue(self) -> None:
        self.read_queue(self.client.get("/briefs/reviews/", name="/briefs/reviews/").text)

    def queue_by_team(self) -> None:
        if self.teams:
            self.client.get(
                "/briefs/reviews/",
                params={"team": self.rng.choice(self.teams)},
                headers={"HX-Request": "true", "HX-Target": "review-queue"},
                name="/briefs/reviews/?team (htmx)",
            )

    def executive_view(self) -> None:
        if self.briefs:
            pk = self.rng.choice(self.briefs)
            self.client.get(f"/briefs/{pk}/executive/", name="/briefs/[id]/executive/")

    def read_view(self) -> None:
        if self.briefs:
            pk = self.rng.choice(self.briefs)
            self.client.get(f"/briefs/{pk}/", name="/briefs/[id]/")

    def review_page(self) -> None:
        if self.briefs:
            pk = self.rng.choice(self.briefs)
            self.client.get(f"/briefs/{pk}/review/", name="/briefs/[id]/review/")

    def notifications(self) -> None:
        self.client.get("/briefs/notifications/", name="/briefs/notifications/")

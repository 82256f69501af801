"""Soak the newcomer's demo: `manage.py demo` on the embedded defaults, for a long time.

    uv run python loadtest/soak.py --minutes 60          # the closing-note figure
    uv run python loadtest/soak.py --minutes 3 --json s.json   # what the CI test runs

The soak starts the real ``manage.py demo`` (SQLite, the embedded file broker, web server,
worker and beat; no DATABASE_URL or REDIS_URL) in a scratch folder, with every periodic job of
beat due every ``--beat-every`` seconds instead of its schedule. Then, for the given time, it

* signs in the five demo users (rep, rep2, manager, vp, admin) and has each one walk the pages
  its own navigation links to, over and over (one client per user, one request at a time);
* has the reps queue an evidence refresh of one of their accounts every ``--refresh-every``
  seconds (the product's own rate limit answers 429 to some; those are counted apart);
* asks /healthz every 2 s, and samples the resident memory (VmRSS) of the web server, the
  worker (main process and pool) and beat after the warm-up and at the end.

At the end it waits for the worker to drain the queue, stops the demo with SIGTERM, reads the
demo's output and prints: process restarts, worker errors, tasks queued (received by the
worker, plus any left in the queue) against done, /healthz failures, p50/p95 page times in the
first and the last window (ten minutes, or a third of a shorter run) and memory per process.
The exit status is 1 when anything restarted, the worker logged an error, a task was not done,
/healthz failed, a page answered 5xx, or a process's memory grew by 10 % or more.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtest.run import (
    ROOT,
    _children,
    describe,
    free_port,
    healthy,
    start,
    tail,
    tree_rss,
    wait_for,
)

USERS = ("rep", "rep2", "manager", "vp", "admin")
PASSWORD = "salesprep-demo"  # noqa: S105 - the demo's published password (callprep/demo/load.py)
PAGES_PER_USER = 40
MEMORY_GROWTH_LIMIT = 0.10
SKIP = ("/static/", "/auth/logout/", "/admin/", "/healthz")
LINK = re.compile(r'href="(/[^"#]*)"')
ACCOUNT = re.compile(r'href="/accounts/(\d+)/"')

RECEIVED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] received")
SUCCEEDED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] succeeded in")
FAILED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] (raised unexpected|failed)")
BEAT_SENT = re.compile(r"Scheduler: Sending due task")
RESTARTED = re.compile(r"stopped unexpectedly .* restarting it")
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback|Unrecoverable error")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--beat-every", type=int, default=5, help="seconds (5)")
    parser.add_argument("--refresh-every", type=float, default=30.0, help="seconds (30)")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before memory (60)")
    parser.add_argument("--window", type=float, default=10.0, help="minutes (10)")
    parser.add_argument("--json", type=Path, help="write the summary as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    return parser.parse_args(argv)


# --- the demo's processes ---------------------------------------------------------------------


def roles(demo_pid: int) -> dict[str, int]:
    """The demo's children by role: web, worker, beat (their pids)."""
    found = {}
    tree = _children()
    todo = list(tree.get(demo_pid, []))
    while todo:
        pid = todo.pop()
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "runserver" in command:
            found["web"] = pid
        elif " worker" in command and "celery" in command:
            found["worker"] = pid
        elif " beat" in command and "celery" in command:
            found["beat"] = pid
        else:
            todo.extend(tree.get(pid, []))  # `uv run` or another wrapper
    return found


def memory(demo_pid: int) -> dict[str, int]:
    """Resident memory in kB of each role, its descendants (the worker's pool) included."""
    return {role: sum(tree_rss(pid).values()) for role, pid in sorted(roles(demo_pid).items())}


# --- the users --------------------------------------------------------------------------------


class Visitor(threading.Thread):
    def __init__(self, base: str, username: str, until: float, refresh_every: float, t0: float):
        super().__init__(daemon=True, name=username)
        self.base, self.username, self.until = base, username, until
        self.refresh_every, self.t0 = refresh_every, t0
        self.samples: list[tuple[float, str, int, float]] = []  # (seconds in, path, status, ms)
        self.refreshes: Counter = Counter()
        self.problem = ""

    def sign_in(self, client: httpx.Client) -> None:
        client.get("/auth/login/")
        response = client.post(
            "/auth/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
            },
        )
        if response.status_code != 200 or response.url.path.startswith("/auth/login/"):
            raise RuntimeError(f"{self.username} could not sign in ({response.status_code})")

    def pages(self, client: httpx.Client) -> tuple[list[str], list[str]]:
        """The pages the user's own links reach (breadth first), and their accounts."""
        starts = ["/", "/calls/mine/", "/dashboard/"] if self.username == "admin" else ["/"]
        seen, queue, accounts = [], list(starts), []
        shapes: Counter = Counter()
        while queue and len(seen) < PAGES_PER_USER:
            path = queue.pop(0)
            shape = re.sub(r"\d+", "N", path.split("?")[0])
            if path in seen or shapes[shape] >= 2 or path.startswith(SKIP):
                continue
            response = client.get(path)
            if response.status_code != 200 or "text/html" not in response.headers.get(
                "content-type", ""
            ):
                continue
            shapes[shape] += 1
            seen.append(path)
            final = response.url.raw_path.decode()  # "/" redirects to the user's start page
            if final != path and final not in seen:
                seen.append(final)
            queue.extend(html.unescape(link) for link in LINK.findall(response.text))
            accounts.extend(a for a in ACCOUNT.findall(response.text) if a not in accounts)
        return seen, accounts

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.base, timeout=60, follow_redirects=True) as client:
                self.sign_in(client)
                paths, accounts = self.pages(client)
                next_refresh = time.monotonic() + self.refresh_every
                turn = 0
                while time.monotonic() < self.until:
                    path = paths[turn % len(paths)]
                    turn += 1
                    began = time.monotonic()
                    status = client.get(path).status_code
                    done = time.monotonic()
                    self.samples.append((began - self.t0, path, status, (done - began) * 1000))
                    if self.username.startswith("rep") and accounts and done >= next_refresh:
                        next_refresh = done + self.refresh_every
                        account = accounts[turn % len(accounts)]
                        response = client.post(
                            f"/evidence/account/{account}/refresh/",
                            headers={"X-CSRFToken": client.cookies.get("csrftoken", "")},
                            follow_redirects=False,
                        )
                        self.refreshes[response.status_code] += 1
        except Exception as exc:  # reported in the summary; the soak goes on for the others
            self.problem = f"{type(exc).__name__}: {exc}"


# --- the run ----------------------------------------------------------------------------------


def read_log(log: Path) -> dict:
    text = log.read_text(errors="replace")
    received = {m.group(2): m.group(1) for m in RECEIVED.finditer(text)}
    succeeded = {m.group(2) for m in SUCCEEDED.finditer(text)}
    failed = {m.group(2) for m in FAILED.finditer(text)}
    errors = [line for line in text.splitlines() if ERROR_LINE.search(line)]
    return {
        "beat_sent": len(BEAT_SENT.findall(text)),
        "received": received,
        "succeeded": succeeded,
        "failed": failed,
        "restarts": len(RESTARTED.findall(text)),
        "errors": errors,
    }


def queued_files(var: Path) -> int:
    folder = var / "broker" / "queue"
    return sum(1 for name in os.listdir(folder) if name.endswith(".msg"))


def window(samples, start: float, end: float) -> dict:
    picked = [ms for at, _, status, ms in samples if start <= at < end and status < 500]
    return describe(picked)


def soak(args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="salesprep-soak-"))
    var = folder / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        SALESPREP_VAR_DIR=str(var),
        CELERY_BEAT_INTERVAL_SECONDS=str(args.beat_every),
        DEBUG="true",
        PYTHONUNBUFFERED="1",
    )
    env.pop("SECRET_KEY", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "demo.log"
    print(f"soak: {args.minutes:g} min in {folder}; beat every {args.beat_every} s", flush=True)
    demo = start([sys.executable, "manage.py", "demo", "--port", str(port)], env, log)
    summary: dict = {"minutes": args.minutes, "beat_every_s": args.beat_every}
    try:
        wait_for("the demo", lambda: healthy(base), demo, log, timeout=180)
        t0 = time.monotonic()
        until = t0 + args.minutes * 60
        started_pids = roles(demo.pid)
        visitors = [Visitor(base, name, until, args.refresh_every, t0) for name in USERS]
        for visitor in visitors:
            visitor.start()
        health_failures, health_checks = 0, 0
        memory_start = None
        while time.monotonic() < until:
            health_checks += 1
            health_failures += not healthy(base)
            if memory_start is None and time.monotonic() - t0 >= min(args.warmup, until - t0):
                memory_start = memory(demo.pid)
                print(f"soak: memory after warm-up (kB): {memory_start}", flush=True)
            if demo.poll() is not None:
                raise RuntimeError(f"the demo exited with {demo.returncode}:\n{tail(log)}")
            time.sleep(2)
        for visitor in visitors:
            visitor.join(90)
        memory_end = memory(demo.pid)
        ended_pids = roles(demo.pid)
        # Let the worker finish what the soak queued (a refresh takes a few seconds).
        drain_until = time.monotonic() + 120
        while time.monotonic() < drain_until:
            seen = read_log(log)
            if (
                not queued_files(var)
                and set(seen["received"]) <= seen["succeeded"] | seen["failed"]
            ):
                break
            time.sleep(1)
        left = queued_files(var)
    finally:
        stop_began = time.monotonic()
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(30)
        except Exception:
            demo.kill()
            demo.wait()
        stop_seconds = time.monotonic() - stop_began
        demo.log_file.close()
    seen = read_log(log)
    samples = [sample for visitor in visitors for sample in visitor.samples]
    duration = args.minutes * 60
    span = min(args.window * 60, duration / 3)
    received, done = seen["received"], seen["succeeded"]
    summary.update(
        {
            "restarts": seen["restarts"],
            "pid_changes": sorted(
                role for role in started_pids if started_pids[role] != ended_pids.get(role)
            ),
            "worker_errors": len(seen["errors"]),
            "first_errors": seen["errors"][:10],
            "beat_sent": seen["beat_sent"],
            "tasks_queued": len(received) + left,
            "tasks_done": len(done),
            "tasks_failed": len(seen["failed"]),
            "tasks_not_done": len(set(received) - done - seen["failed"]) + left,
            "tasks_by_name": dict(Counter(received.values()).most_common()),
            "refreshes": dict(sum((v.refreshes for v in visitors), Counter())),
            "health_checks": health_checks,
            "health_failures": health_failures,
            "pages": len(samples),
            "server_errors": sum(1 for _, _, status, _ in samples if status >= 500),
            "statuses": dict(Counter(status for _, _, status, _ in samples)),
            "window_minutes": round(span / 60, 1),
            "first_window": window(samples, 0, span),
            "last_window": window(samples, duration - span, duration + 1),
            "memory_start_kb": memory_start,
            "memory_end_kb": memory_end,
            "visitor_problems": {v.username: v.problem for v in visitors if v.problem},
            "stop_seconds": round(stop_seconds, 1),
            "folder": str(folder),
        }
    )
    return summary


def verdict(summary: dict) -> list[str]:
    problems = []
    for key in ("restarts", "worker_errors", "tasks_not_done", "tasks_failed", "server_errors"):
        if summary[key]:
            problems.append(f"{key}: {summary[key]}")
    if summary["health_failures"]:
        problems.append(f"/healthz failed {summary['health_failures']} times")
    if summary["pid_changes"]:
        problems.append(f"processes replaced: {summary['pid_changes']}")
    if summary["visitor_problems"]:
        problems.append(f"visitors stopped: {summary['visitor_problems']}")
    for role, before in (summary["memory_start_kb"] or {}).items():
        after = summary["memory_end_kb"].get(role, 0)
        if before and after >= before * (1 + MEMORY_GROWTH_LIMIT):
            problems.append(f"{role} memory grew {before} -> {after} kB")
    return problems


def report(summary: dict) -> str:
    first, last = summary["first_window"], summary["last_window"]
    lines = [
        f"Soak of {summary['minutes']:g} min (beat every {summary['beat_every_s']} s)",
        f"  restarts: {summary['restarts']}; worker errors: {summary['worker_errors']}",
        f"  tasks queued {summary['tasks_queued']}, done {summary['tasks_done']}, "
        f"failed {summary['tasks_failed']}, not done {summary['tasks_not_done']} "
        f"(beat sent {summary['beat_sent']}; refreshes {summary['refreshes']})",
        f"  /healthz: {summary['health_checks']} checks, {summary['health_failures']} failed",
        f"  pages: {summary['pages']} ({summary['statuses']})",
        f"  first {summary['window_minutes']:g} min: p50 {first['p50_ms']} ms, "
        f"p95 {first['p95_ms']} ms ({first['requests']} pages)",
        f"  last {summary['window_minutes']:g} min:  p50 {last['p50_ms']} ms, "
        f"p95 {last['p95_ms']} ms ({last['requests']} pages)",
    ]
    for role, before in (summary["memory_start_kb"] or {}).items():
        after = summary["memory_end_kb"].get(role, 0)
        growth = (after - before) / before * 100 if before else 0.0
        lines.append(
            f"  memory {role}: {before / 1024:.1f} -> {after / 1024:.1f} MB ({growth:+.1f} %)"
        )
    lines.append(f"  stopped in {summary['stop_seconds']} s (SIGTERM)")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    summary = soak(args)
    print(report(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    problems = verdict(summary)
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

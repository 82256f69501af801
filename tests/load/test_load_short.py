"""The load test in its short (CI) mode: the real stack — gunicorn, a Celery worker, PostgreSQL,
Redis — under 20 reps, 3 managers and 2 executives (see loadtest/ and docs/loadtest.md).

The test makes a scratch database of its own (dropped afterwards) and gives the run a Redis
database and Celery queue of its own; loadtest/run.py starts and stops every process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
P95_LIMIT_MS = 150
RSS_GROWTH_LIMIT = 10
# When other processes took more than half the machine's CPU during the window (CI runners and
# this team's shared box run other suites at the same time), the latencies measure the queue for
# a core, not SalesPrep: the runner records the CPU seconds of every party (cpu_seconds). Then
# the test holds the run to a starved-machine bound that still catches a broken page (an N+1
# query, a lock wait) — the full 60-second run by hand is held to 150 ms (docs/loadtest.md).
STARVED_SHARE = 0.5
STARVED_P95_LIMIT_MS = 750


def server_url() -> str:
    """The PostgreSQL server the tests use (DATABASE_URL), with the maintenance database."""
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesprep"))
    return urlunsplit((url.scheme, url.netloc, "/postgres", url.query, ""))


def redis_url() -> str:
    """The tests' Redis server, database 13 (the suite uses 15 unless told otherwise)."""
    url = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    return urlunsplit((url.scheme, url.netloc, "/13", "", ""))


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(statement.format(sql.Identifier(name)))


@pytest.fixture
def scratch_database():
    name = f"salesprep_load_ci_{os.getpid()}"
    admin = server_url()
    drop_database(admin, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlsplit(admin)
    try:
        yield urlunsplit((url.scheme, url.netloc, f"/{name}", url.query, ""))
    finally:
        drop_database(admin, name)


@pytest.fixture
def run_load_test(scratch_database, tmp_path):
    def run() -> tuple[dict, str]:
        summary = tmp_path / "summary.json"
        command = [
            sys.executable, "loadtest/run.py", "--short",
            "--database-url", scratch_database, "--redis-url", redis_url(),
            "--p95-limit", str(P95_LIMIT_MS), "--rss-growth-limit", str(RSS_GROWTH_LIMIT),
            "--json", str(summary),
        ]  # fmt: skip
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            output, _ = proc.communicate(timeout=420)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # the runner stops gunicorn, the worker, locust
            output, _ = proc.communicate(timeout=90)
            pytest.fail(f"the load test did not finish in 7 minutes:\n{output[-4000:]}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        print(output)
        assert summary.exists(), f"the runner wrote no summary:\n{output[-4000:]}"
        return json.loads(summary.read_text()), output

    return run


def test_the_short_load_test_meets_the_targets_on_the_real_stack(run_load_test):
    summary, output = run_load_test()

    assert summary["population"] == {"reps": 20, "managers": 3, "executives": 2}
    assert summary["users_ready"] == 25, output[-4000:]
    assert summary["errors"] == 0, summary["first_errors"] + summary["server_errors"]
    assert summary["requests"] > 0
    assert summary["throughput_rps"] > 0
    # Every role did its work: reps autosaved, managers exported, executives read.
    for endpoint in (
        "/briefs/[id]/sections/[key]/ (autosave)",
        "/dashboard/calls/ (drill-down)",
        "/briefs/[id]/executive/",
    ):
        assert summary["endpoints"].get(endpoint, {}).get("requests", 0) > 0, endpoint
    cpu = summary["cpu_seconds"]
    capacity = summary["seconds"] * cpu["cores"]
    starved = cpu["others"] > STARVED_SHARE * capacity
    limit = STARVED_P95_LIMIT_MS if starved else P95_LIMIT_MS
    if starved:
        print(f"other processes used {cpu['others']} of {capacity:.0f} CPU seconds: p95 <= {limit}")
    assert summary["p95_ms"] <= limit, output[-4000:]
    for group in ("web", "worker"):
        memory = summary["memory"][group]
        assert memory["alive"], group
        assert memory["before_kb"] > 0 and memory["after_kb"] > 0, group
        assert memory["growth_pct"] < RSS_GROWTH_LIMIT, (group, memory)
    assert summary["passed"] or (
        starved and summary["failures"] == [f"p95 {summary['p95_ms']} ms > {P95_LIMIT_MS} ms"]
    ), summary["failures"]


def test_the_runner_refuses_a_run_without_postgresql():
    done = subprocess.run(
        [sys.executable, "loadtest/run.py", "--short", "--database-url", "sqlite:///x.db"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "PostgreSQL" in done.stderr

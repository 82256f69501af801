"""The newcomer's first run: `manage.py demo` on SQLite and the embedded file broker.

These tests start the real command in a child process, with no DATABASE_URL or REDIS_URL, as
the README's first command does.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.helpers import ROOT, free_port, manage, project_env


@pytest.fixture
def embedded_env(tmp_path):
    return project_env(
        DATABASE_URL=None,
        REDIS_URL=None,
        DEBUG=None,
        SECRET_KEY=None,
        SALESPREP_VAR_DIR=str(tmp_path / "var"),
    )


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_seed_only_creates_the_demo_users_and_is_idempotent(embedded_env, tmp_path):
    first = manage("demo", "--seed-only", env=embedded_env)
    assert first.returncode == 0, first.stderr
    assert "salesprep-demo" in first.stdout
    second = manage("demo", "--seed-only", env=embedded_env)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "var" / "salesprep.sqlite3").exists()
    count = manage(
        "shell",
        "--no-imports",
        "-c",
        "from accounts.models import User, Team;"
        "print(User.objects.count(), Team.objects.count(),"
        " sorted(User.objects.get(username='rep').role_names),"
        " list(User.objects.get(username='rep2').teams.values_list('name', flat=True)))",
        env=embedded_env,
    )
    assert count.stdout.strip() == "5 2 ['Rep'] ['West']"


def test_demo_serves_the_app_runs_a_worker_and_stops_cleanly_on_ctrl_c(embedded_env, tmp_path):
    port = free_port()
    # A file, not a pipe: the worker logs a lot, and a full pipe would stall it.
    log = (tmp_path / "demo.log").open("w+")
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port)],
        cwd=ROOT,
        env=embedded_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status, body = get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        assert b'"broker": "embedded"' in body
        assert get(f"{base}/auth/login/")[0] == 200

        # A task sent through the embedded broker is run by the demo's real worker process.
        sent = manage(
            "shell",
            "--no-imports",
            "-c",
            "from callprep.tasks import record_worker_heartbeat as t; t.delay('embedded')",
            env=embedded_env,
        )
        assert sent.returncode == 0, sent.stderr
        seen = False
        # The demo's own evidence collection is queued first; the heartbeat waits its turn.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not seen:
            check = manage(
                "shell",
                "--no-imports",
                "-c",
                "from callprep.models import WorkerHeartbeat as W;"
                "print(W.objects.filter(name='embedded').exists())",
                env=embedded_env,
            )
            seen = check.stdout.strip() == "True"
            time.sleep(0.5)
        assert seen, "the embedded worker did not run the task"
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
    assert demo.returncode == 0, output
    assert "Stopped." in output
    leftovers = subprocess.run(
        ["pgrep", "-f", f"runserver 127.0.0.1:{port}"], capture_output=True, check=False
    )
    assert leftovers.stdout == b""

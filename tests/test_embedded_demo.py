"""The newcomer's first run: `manage.py demo` on SQLite and the embedded file broker.

These tests start the real command in a child process, with no DATABASE_URL or REDIS_URL, as
the README's first command does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port, manage, project_env


@pytest.fixture
def embedded_env(tmp_path):
    return project_env(
        DATABASE_URL=None,
        REDIS_URL=None,
        DEBUG=None,
        SECRET_KEY=None,
        SITE_URL=None,
        SALESPREP_VAR_DIR=str(tmp_path / "var"),
    )


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def log_text(log) -> str:
    log.flush()
    with open(log.name) as reader:
        return reader.read()


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

        # Web, worker and beat link to the address the demo printed (SITE_URL was not set).
        children = [pid for pid in descendants(demo.pid) if parent_of(pid) == demo.pid]
        assert len(children) == 3, descendants(demo.pid)
        for pid in children:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert f"SITE_URL={base}".encode() in environ, pid

        # A task sent through the embedded broker is run by the demo's real worker process; so
        # is a notification's e-mail (the console backend prints it), linking to the demo.
        sent = manage(
            "shell",
            "--no-imports",
            "-c",
            "from callprep.tasks import record_worker_heartbeat as t; t.delay('embedded');"
            "from accounts.models import User; from callprep.review.models import Notification;"
            "from callprep.review.tasks import send_notification_email as e;"
            "n = Notification.objects.create(recipient=User.objects.get(username='rep'),"
            " kind='submitted', subject='Link check', url='/calls/mine/');"
            "e.delay(n.pk)",
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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and f"{base}/calls/mine/" not in log_text(log):
            time.sleep(0.3)
        assert f"Open it: {base}/calls/mine/" in log_text(log)
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
    assert demo.returncode == 0, output
    assert f"SalesPrep is starting at {base}/ " in output
    assert "Stopped." in output
    leftovers = subprocess.run(
        ["pgrep", "-f", f"runserver 127.0.0.1:{port}"], capture_output=True, check=False
    )
    assert leftovers.stdout == b""


# --- supervision, a clean stop on SIGTERM, and a soak ------------------------------------------


def descendants(pid: int) -> dict[int, str]:
    """Every living process below ``pid``, with its command line (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = parent_of(int(entry))
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = {}, list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        todo.extend(children.get(child, []))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_demo(env, port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("a")
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal or a service manager has
    )
    log.close()
    return demo


def wait_healthy(base: str, demo: subprocess.Popen, log_path: Path, timeout: float = 90) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert demo.poll() is None, log_path.read_text()
        try:
            status, body = get(f"{base}/healthz", timeout=2)
            if status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"/healthz never answered 200:\n{log_path.read_text()[-3000:]}")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def worker_main(demo_pid: int) -> int:
    """The worker's main process: the demo's own child (its pool processes are below it)."""
    for pid, command in descendants(demo_pid).items():
        if "celery" in command and " worker" in command and parent_of(pid) == demo_pid:
            return pid
    raise AssertionError(f"no worker below the demo: {descendants(demo_pid)}")


def test_demo_restarts_a_dead_worker_and_stops_everything_on_sigterm_within_10_s(
    embedded_env, tmp_path
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "demo.log"
    demo = start_demo(embedded_env, port, log_path)
    try:
        wait_healthy(base, demo, log_path)
        # A worker that dies is started again, and the demo says so; the site stays up.
        worker = worker_main(demo.pid)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "restarting it" not in log_path.read_text():
            time.sleep(0.2)
        output = log_path.read_text()
        assert "The worker stopped unexpectedly (exit code -9); restarting it" in output, output
        assert get(f"{base}/healthz")[0] == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            replaced = [
                pid
                for pid, command in descendants(demo.pid).items()
                if "celery" in command and " worker" in command and pid != worker
            ]
            if len(replaced) >= 2:  # the new main process and its pool
                break
            time.sleep(0.3)
        everyone = descendants(demo.pid)
        roles = " ".join(everyone.values())
        assert "runserver" in roles and " worker" in roles and " beat" in roles, everyone

        # SIGTERM to the demo's whole process group, as a service manager or `kill -TERM -pgid`
        # sends it: web, worker (with its pool) and beat are all gone within 10 s.
        began = time.monotonic()
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=10)
        while any(alive(pid) for pid in everyone) and time.monotonic() - began < 10:
            time.sleep(0.1)
        took = time.monotonic() - began
        left = {pid: command for pid, command in everyone.items() if alive(pid)}
        assert not left, f"still running {took:.1f} s after SIGTERM: {left}"
        assert took < 10
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    output = log_path.read_text()
    assert demo.returncode == 0, output
    assert "Stopped." in output
    assert "Traceback" not in output, output

    # Nothing left behind blocks the next start: it comes up healthy on the same folder.
    log_path.write_text("")
    again = start_demo(embedded_env, port, log_path)
    try:
        wait_healthy(base, again, log_path)
        assert get(f"{base}/auth/login/")[0] == 200
    finally:
        again.send_signal(signal.SIGINT)
        again.wait(timeout=15)
    assert again.returncode == 0, log_path.read_text()


def test_a_three_minute_soak_with_beat_every_two_seconds_keeps_everything_up(tmp_path):
    """loadtest/soak.py against the real demo: five users on their pages, reps refreshing
    evidence, every beat job due every 2 s (hundreds of beat ticks), worker with a pool of two."""
    summary_path = tmp_path / "soak.json"
    run = subprocess.run(
        [
            sys.executable,
            "loadtest/soak.py",
            "--minutes=3",
            "--beat-every=2",
            "--refresh-every=20",
            "--warmup=30",
            f"--json={summary_path}",
        ],
        cwd=ROOT,
        env=project_env(DJANGO_SETTINGS_MODULE=None),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert summary_path.exists(), run.stdout + run.stderr
    summary = json.loads(summary_path.read_text())
    report = run.stdout[-3000:]
    assert summary["restarts"] == 0, report
    assert summary["pid_changes"] == [], report
    assert summary["worker_errors"] == 0, summary["first_errors"]
    assert summary["beat_sent"] >= 300, report
    assert summary["tasks_queued"] >= summary["beat_sent"], report
    assert summary["tasks_not_done"] == 0, report
    assert summary["tasks_failed"] == 0, report
    assert summary["tasks_done"] == summary["tasks_queued"], report
    assert summary["health_checks"] >= 60 and summary["health_failures"] == 0, report
    assert summary["server_errors"] == 0, summary["statuses"]
    assert set(summary["statuses"]) == {"200"}, summary["statuses"]  # every link it found works
    assert summary["pages"] > 100 and not summary["visitor_problems"], report
    assert summary["stop_seconds"] < 10, report

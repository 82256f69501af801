"""Fault tests: real worker and web processes, a private Redis per test, PostgreSQL connections
terminated under load.

Each test starts what it breaks in its own process group (Celery workers, gunicorn) or as its own
``redis-server`` on a free port, so that a fault never reaches the shared Redis on 6379 or anyone
else's processes, and a finalizer kills the group even when the test fails.

The processes read ``tests.faults.proc_settings`` (the test settings plus the replayed evidence
sources) and are pointed at the test database through ``DATABASE_URL``.

Every test records the faults it injected and what was lost (which must be nothing) in the
``tally``; the totals are printed at the end of the run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from salesprep.celery import app
from tests.helpers import free_port, replayed_evidence_settings

ROOT = Path(__file__).resolve().parents[2]
PROC_SETTINGS = "tests.faults.proc_settings"


def wait_until(
    predicate: Callable[[], Any],
    *,
    timeout: float,
    message: str | Callable[[], str],
    interval: float = 0.2,
) -> Any:
    """Poll ``predicate`` until it returns something true; fail with ``message`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} (waited {timeout:.0f} s)")
        time.sleep(interval)


def database_url_for_test() -> str:
    """The URL of the database this test uses (pytest-django's ``test_<name>``)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


def process_env(redis_url: str, **extra: Any) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": PROC_SETTINGS,
        "DATABASE_URL": database_url_for_test(),
        "REDIS_URL": redis_url,
        "FAULTS_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "PYTHONUNBUFFERED": "1",
    }
    env.update({name: str(value) for name, value in extra.items()})
    return env


def children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces, so split after the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Process:
    """A subprocess in its own process group, logged to a file, killed with its group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_for_log(self, text: str, timeout: float, *, count: int = 1) -> None:
        def seen():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}"
                )
            return self.log().count(text) >= count

        wait_until(
            seen,
            timeout=timeout,
            message=lambda: f"{self.name} never logged {text!r}:\n{self.tail()}",
        )

    def kill_group(self) -> None:
        """SIGKILL the whole process group (the main process and any orphaned children)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


class Worker(Process):
    """``celery -A salesprep worker`` consuming the test's queue."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, *, pool="prefork", n=2):
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "salesprep",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(n),
            "--queues",
            env["FAULTS_QUEUE"],
            "--hostname",
            f"{name}@faults",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        super().__init__(name, argv, env, log_dir)

    def start(self, timeout: float = 45.0) -> Worker:
        super().start()
        self.wait_for_log(" ready.", timeout)
        return self

    def children(self) -> list[int]:
        return children_of(self.pid)


class RedisServer:
    """A private redis-server on a free port; stopping it never touches the shared Redis."""

    def __init__(self, folder: Path):
        binary = shutil.which("redis-server")
        assert binary, "the fault tests need redis-server on PATH (apt-get install redis-server)"
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.stops = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> RedisServer:
        log = (self.folder / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--dbfilename",
                "dump.rdb",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def pong():
            assert self.proc.poll() is None, (self.folder / "redis.log").read_text()
            try:
                return self.client().ping()
            except redis.RedisError:
                return False

        wait_until(pong, timeout=10, message=f"redis-server on {self.port} did not start")
        return self

    def stop(self, *, save: bool = False) -> None:
        """Shut the server down (``save`` keeps its data for the next start, as a restart of a
        Redis with snapshots does; without it, everything queued is lost)."""
        # The server closes the connection as it exits.
        with contextlib.suppress(redis.ConnectionError):
            self.client().shutdown(save=save, nosave=not save)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self.stops += 1

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def use_broker(url: str) -> None:
    """Point this process's Celery app (the producer side) at another broker.

    kombu keeps its connection pools in a registry keyed by connection: closing only ours
    would leave a closed pool there for the next user of the old broker ("Acquire on closed
    pool" in a later test), so the registry is emptied too."""
    kombu_pools.reset()
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of our own, with this process enqueuing to it for the test."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder).start()
    previous = app.conf.broker_url
    use_broker(server.url)
    try:
        yield server
    finally:
        use_broker(previous)
        server.kill()


@pytest.fixture
def processes(tmp_path):
    """Start processes through this; every one is killed (with its group) at the end."""
    started: list[Process] = []
    log_dir = tmp_path / "logs"
    log_dir.mkdir()

    class Starter:
        folder = log_dir

        def worker(self, name: str, env: dict[str, str], **kwargs) -> Worker:
            worker = Worker(name, env, log_dir, **kwargs)
            started.append(worker)
            return worker.start()

        def process(self, name: str, argv: list[str], env: dict[str, str]) -> Process:
            process = Process(name, argv, env, log_dir)
            started.append(process)
            return process.start()

    try:
        yield Starter()
    finally:
        for process in reversed(started):
            process.kill_group()


@dataclass
class Tally:
    faults: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def fault(self, name: str, count: int = 1) -> None:
        self.faults[name] = self.faults.get(name, 0) + count

    def loss(self, name: str, count: int) -> None:
        self.lost[name] = self.lost.get(name, 0) + count

    def note(self, text: str) -> None:
        self.notes.append(text)


TALLY = Tally()


@pytest.fixture
def tally(request):
    """Record faults and losses; the test's share is printed when it ends."""
    mine = Tally()
    yield mine
    for name, count in mine.faults.items():
        TALLY.fault(name, count)
    for name, count in mine.lost.items():
        TALLY.loss(name, count)
    TALLY.notes.extend(f"{request.node.name}: {n}" for n in mine.notes)
    print(
        f"\n[faults] {request.node.name}: injected {mine.faults or 'nothing'}; "
        f"lost {mine.lost or 'nothing'}; " + "; ".join(mine.notes)
    )


def pytest_terminal_summary(terminalreporter):
    if not TALLY.faults:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fault injection summary")
    write(f"faults injected: {sum(TALLY.faults.values())} {TALLY.faults}")
    lost = {name: count for name, count in TALLY.lost.items() if count}
    write(f"lost: {sum(lost.values())} {lost or ''}".rstrip())
    for note in TALLY.notes:
        write(f"  {note}")


@pytest.fixture(autouse=True)
def replay_settings(settings):
    """This process reads the same recordings, with the same knobs, as the processes it starts
    (tests/faults/proc_settings.py), so it can compute the evidence they should store."""
    for name, value in replayed_evidence_settings().items():
        setattr(settings, name, value)
    # The replayed requests made here would drown the summary printed under -s.
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)
    yield settings
    httpx_log.setLevel(level)

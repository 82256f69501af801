"""The demo's process supervisor: web server, worker and beat, restarted when one dies.

Each child runs in its own process group, so that stopping it also stops what it started (the
worker's pool processes), and asks the kernel to end it if the demo itself is killed (Linux),
so no orphan keeps the port or the broker busy for the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: A child that dies this many times within RESTART_WINDOW seconds is not started again.
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0
#: Stopping: SIGTERM, then (Celery's cold shutdown) SIGQUIT, then SIGKILL, seconds after the start.
QUIT_AFTER = 5.0
KILL_AFTER = 8.0


def _end_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen
    deaths: list[float] = field(default_factory=list)

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


class Group:
    def __init__(self, write: Callable[[str], object], *, cwd) -> None:
        self.write = write
        self.cwd = cwd
        self.children: list[Child] = []
        self.restarts = 0
        self.gave_up = ""

    def _spawn(self, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            argv, cwd=self.cwd, start_new_session=True, preexec_fn=_end_with_parent
        )

    def start(self, name: str, argv: list[str]) -> Child:
        child = Child(name, argv, self._spawn(argv))
        self.children.append(child)
        return child

    def restart_the_dead(self) -> None:
        now = time.monotonic()
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            child.signal_group(signal.SIGKILL)  # what the dead process left behind
            child.deaths = [t for t in child.deaths if now - t < RESTART_WINDOW] + [now]
            if len(child.deaths) > RESTART_LIMIT:
                self.gave_up = (
                    f"The {child.name} stopped {len(child.deaths)} times within "
                    f"{RESTART_WINDOW:.0f} s; not restarting it"
                )
                self.write(self.gave_up + ".")
                return
            self.restarts += 1
            self.write(
                f"The {child.name} stopped unexpectedly (exit code {code}); restarting it "
                f"(restart {self.restarts} of this demo)."
            )
            child.process = self._spawn(child.argv)

    def stop(self) -> None:
        """End every child within KILL_AFTER seconds, its whole process group included."""
        started = time.monotonic()
        for child in self.children:
            # The leader only: the worker's warm shutdown stops its own pool processes.
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        quit_sent = False
        while any(child.process.poll() is None for child in self.children):
            elapsed = time.monotonic() - started
            if elapsed >= KILL_AFTER:
                break
            if elapsed >= QUIT_AFTER and not quit_sent:
                quit_sent = True
                for child in self.children:
                    if child.process.poll() is None:
                        with contextlib.suppress(ProcessLookupError):
                            child.process.send_signal(signal.SIGQUIT)
            time.sleep(0.1)
        for child in self.children:
            child.signal_group(signal.SIGKILL)  # the group's stragglers, or a child that hung
            child.process.wait()

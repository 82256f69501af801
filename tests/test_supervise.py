"""The demo's supervisor (callprep/demo/supervise.py) with real child processes."""

from __future__ import annotations

import sys
import time

from callprep.demo import supervise

CRASH = [sys.executable, "-c", "raise SystemExit(3)"]
# Ignores SIGTERM and SIGQUIT, as a hung process would; only SIGKILL ends it.
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGQUIT, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)",
]


def test_a_child_that_keeps_dying_is_restarted_five_times_then_given_up(tmp_path):
    said: list[str] = []
    group = supervise.Group(said.append, cwd=tmp_path)
    group.start("worker", CRASH)
    deadline = time.monotonic() + 60
    while not group.gave_up and time.monotonic() < deadline:
        group.restart_the_dead()
        time.sleep(0.05)
    group.stop()
    restarts = [line for line in said if "); restarting it (" in line]
    assert len(restarts) == supervise.RESTART_LIMIT
    assert restarts[0] == (
        "The worker stopped unexpectedly (exit code 3); restarting it (restart 1 of this demo)."
    )
    assert said[-1] == "The worker stopped 6 times within 60 s; not restarting it."


def test_stop_ends_a_child_that_ignores_sigterm_and_sigquit_within_the_kill_deadline(tmp_path):
    group = supervise.Group(lambda line: None, cwd=tmp_path)
    stubborn = group.start("beat", STUBBORN)
    quick = group.start("web server", [sys.executable, "-c", "import time; time.sleep(600)"])
    time.sleep(0.5)  # both are running (and the first has set its handlers)
    began = time.monotonic()
    group.stop()
    took = time.monotonic() - began
    assert stubborn.process.returncode == -9  # SIGKILL, after SIGTERM and SIGQUIT were ignored
    assert quick.process.returncode == -15  # SIGTERM was enough
    assert supervise.KILL_AFTER <= took < supervise.KILL_AFTER + 1.5

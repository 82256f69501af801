"""Run the SalesPrep load test against the real stack on this machine, and judge it.

    uv run python loadtest/run.py                 # full: 60 s, 20 reps / 3 managers / 2 execs
    uv run python loadtest/run.py --short         # CI: 15 s after a 5 s warm-up

Needs PostgreSQL and Redis: DATABASE_URL (a scratch database — the run migrates it and seeds
the load-test users with ``manage.py loadtest_seed --force``) and REDIS_URL (a Redis database
of its own). The runner then

1. collects the static files into a temporary folder (WhiteNoise's manifest storage, as built
   into the image) and starts a Celery worker on a queue of its own and gunicorn on a free port,
   both with the production settings (DEBUG off; see loadtest/settings.py), and waits for
   /healthz;
2. warms up with the same population (caches, templates, connections), then samples the
   resident memory (VmRSS) of gunicorn (master + workers) and of the worker (main + pool);
3. runs locust headless for the duration, sampling memory every 2 s, and samples once more at
   the end;
4. stops everything and prints requests, throughput, p50/p95/p99 overall and per endpoint,
   errors and the memory growth. The exit status is 1 when there was any error, the p95 is
   above the limit (150 ms) or either group's memory grew by the limit (10 %) or more.

``--json FILE`` writes the same summary as JSON (the CI test reads it).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"
SEED_REPS, SEED_MANAGERS, SEED_EXECUTIVES = 20, 3, 2  # what manage.py loadtest_seed creates


class Interrupted(Exception):
    pass


def _on_signal(signum, frame):
    raise Interrupted(f"signal {signum}")


# --- processes ------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the runner dies, so nothing outlives a killed run."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    out = open(log, "wb")  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    proc.log_file = out
    return proc


def stop(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    """SIGTERM (gunicorn and Celery shut down gracefully), then SIGKILL the whole group."""
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    proc.log_file.close()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- memory -----------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree[ppid].append(int(entry))
    return tree


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> dict[int, int]:
    """VmRSS in kB of a process and all its descendants, by pid."""
    tree, found, todo = _children(), {}, [root]
    while todo:
        pid = todo.pop()
        found[pid] = rss_kb(pid)
        todo.extend(tree.get(pid, []))
    return found


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes (their own, not their reaped children's)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


def sample_cpu(stack: dict[str, subprocess.Popen]) -> dict[str, float]:
    result = {group: cpu_seconds(tree_rss(proc.pid)) for group, proc in stack.items()}
    result["machine_busy"], result["machine_total"] = machine_cpu()
    return result


def sample_memory(stack: dict[str, subprocess.Popen]) -> dict[str, dict]:
    result = {}
    for group, proc in stack.items():
        per_pid = tree_rss(proc.pid)
        result[group] = {"total_kb": sum(per_pid.values()), "processes": per_pid}
    return result


# --- statistics -------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def describe(times: list[float]) -> dict:
    values = sorted(times)
    return {
        "requests": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(values[-1], 1) if values else 0.0,
        "mean_ms": round(sum(values) / len(values), 1) if values else 0.0,
    }


def read_samples(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summarise(samples: list[dict], warmup: list[dict], seconds: float) -> dict:
    requests = [s for s in samples if s["method"] not in ("START", "READY", "EXCEPTION")]
    by_name: dict[str, list[float]] = defaultdict(list)
    for s in requests:
        by_name[s["name"]].append(s["ms"])
    errors = [s for s in warmup + samples if s["error"]]
    overall = describe([s["ms"] for s in requests])
    logins = [s["ms"] for s in warmup + samples if s["name"] == "login"]
    return {
        **overall,
        "logins": describe(logins),
        "seconds": round(seconds, 1),
        "throughput_rps": round(len(requests) / seconds, 1) if seconds else 0.0,
        "errors": len(errors),
        "warmup_errors": sum(1 for s in warmup if s["error"]),
        "first_errors": [f"{s['method']} {s['name']}: {s['error']}" for s in errors[:10]],
        "endpoints": {
            name: describe(times)
            for name, times in sorted(
                by_name.items(), key=lambda kv: -percentile(sorted(kv[1]), 95)
            )
        },
    }


# --- the run ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="CI mode: 15 s after a 5 s warm-up.")
    parser.add_argument("--duration", type=int, help="Seconds measured (60; --short: 15).")
    parser.add_argument("--warmup", type=int, help="Least seconds of warm-up (15; --short: 10).")
    parser.add_argument(
        "--settle", type=int, help="Seconds of browsing after the last sign-in (10; short: 5)."
    )
    parser.add_argument("--reps", type=int, default=SEED_REPS)
    parser.add_argument("--managers", type=int, default=SEED_MANAGERS)
    parser.add_argument("--executives", type=int, default=SEED_EXECUTIVES)
    parser.add_argument("--spawn-rate", type=float, default=5, help="Users started a second.")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (compose: 3).")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery pool size.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--no-setup", action="store_true", help="Skip migrate, seed, collect.")
    parser.add_argument("--p95-limit", type=float, default=150.0, help="Milliseconds.")
    parser.add_argument("--rss-growth-limit", type=float, default=10.0, help="Percent.")
    parser.add_argument("--json", type=Path, help="Write the summary here as JSON.")
    parser.add_argument("--keep", action="store_true", help="Keep the run folder (logs, CSV).")
    args = parser.parse_args(argv)
    args.duration = args.duration or (15 if args.short else 60)
    args.settle = args.settle if args.settle is not None else (5 if args.short else 10)
    args.warmup = args.warmup if args.warmup is not None else (10 if args.short else 15)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL (or --database-url) to a scratch PostgreSQL database")
    if not args.redis_url.startswith("redis://"):
        parser.error("set REDIS_URL (or --redis-url) to a Redis database of the run's own")
    if not 1 <= args.reps <= SEED_REPS:
        parser.error(f"--reps: 1 to {SEED_REPS} (each rep autosaves a brief of their own)")
    if not (1 <= args.managers <= SEED_MANAGERS and 1 <= args.executives <= SEED_EXECUTIVES):
        parser.error(f"--managers: 1 to {SEED_MANAGERS}; --executives: 1 to {SEED_EXECUTIVES}")
    return args


def environment(args, folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            # Production settings; only what a local run cannot have differs (see the docs).
            "DJANGO_SETTINGS_MODULE": "loadtest.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BEHIND_HTTPS_PROXY": "true",  # the load generator plays the proxy
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CACHE_KEY_PREFIX": f"loadtest-{os.getpid()}",
            "LOADTEST_QUEUE": f"loadtest-{os.getpid()}",
            "STATIC_ROOT": str(folder / "static"),
            "SALESPREP_VAR_DIR": str(folder / "var"),
            "EVIDENCE_TRANSPORT": "replay",  # no live calls to SEC, FRED, … from a load test
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",  # no SMTP here
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "LOADTEST_REPS": str(args.reps),
            "LOADTEST_MANAGERS": str(args.managers),
            "LOADTEST_EXECUTIVES": str(args.executives),
        }
    )
    return env


def manage(env: dict, *command: str) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    say(f"manage.py {command[0]}: {time.monotonic() - started:.1f} s")


def wait_for(what: str, ready, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail(log)}")
        if ready():
            return
        time.sleep(0.3)
    raise RuntimeError(f"{what} was not ready within {timeout:.0f} s:\n{tail(log)}")


def healthy(url: str) -> bool:
    # The server's own address (http://127.0.0.1:port), as the proxy would call it.
    request = urllib.request.Request(  # noqa: S310
        url + "/healthz", headers={"X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def locust(args, env, url: str, folder: Path) -> dict:
    """Run locust headless: warm up until every user has signed in (and ``--warmup`` seconds),
    sample memory, measure ``--duration`` seconds (memory every 2 s), sample memory, stop.

    Returns the samples split into warm-up and measured window, the window's length and the
    memory samples.
    """
    samples = folder / "samples.jsonl"
    log = folder / "locust.log"
    env = {**env, "LOADTEST_SAMPLES": str(samples)}
    users = args.reps + args.managers + args.executives
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(users), "-r", str(args.spawn_rate), "--host", url,
        "--csv", str(folder / "locust"), "--only-summary", "--loglevel", "WARNING",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    proc = start(cmd, env, log)
    try:
        began = time.monotonic()
        all_in = None
        while True:  # the warm-up
            if proc.poll() is not None:
                raise RuntimeError(f"locust exited early ({proc.returncode}):\n{tail(log)}")
            lines = read_samples(samples)
            started = sum(1 for s in lines if s["method"] in ("READY", "START"))
            if started >= users and all_in is None:
                all_in = time.monotonic()
            elapsed = time.monotonic() - began
            settled = all_in is not None and time.monotonic() - all_in >= args.settle
            if settled and elapsed >= args.warmup:
                break
            if elapsed > args.warmup + 120:
                say(f"only {started} of {users} users started; measuring anyway")
                break
            time.sleep(0.5)
        say(f"warm-up: {time.monotonic() - began:.1f} s; {started} of {users} users signed in")
        before = sample_memory(STACK)
        cpu_before = sample_cpu({**STACK, "locust": proc})
        t0 = time.time()
        during = []
        while time.time() - t0 < args.duration:
            if proc.poll() is not None:
                raise RuntimeError(f"locust exited early ({proc.returncode}):\n{tail(log)}")
            time.sleep(min(2.0, max(0.0, args.duration - (time.time() - t0))))
            during.append(sample_memory(STACK))
        t1 = time.time()
        cpu_after = sample_cpu({**STACK, "locust": proc})
        after = sample_memory(STACK)
    finally:
        stop(proc, timeout=30)
    lines = read_samples(samples)
    ready = sum(1 for s in lines if s["method"] == "READY")
    return {
        "users_ready": ready,
        "warmup": [s for s in lines if s["t"] < t0],
        "measured": [s for s in lines if t0 <= s["t"] < t1],
        "seconds": t1 - t0,
        "memory": (before, during, after),
        "cpu": {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_before},
        "load_average": os.getloadavg(),
    }


STACK: dict[str, subprocess.Popen] = {}


def server_errors(log: Path) -> list[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [
        line
        for line in text.splitlines()
        if re.search(r"Internal Server Error|Traceback|\[CRITICAL\]|WORKER TIMEOUT", line)
    ]


def say(text: str) -> None:
    print(text, flush=True)


def run(args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="salesprep-load-"))
    env = environment(args, folder)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    say(f"run folder {folder}; load average {os.getloadavg()}")
    try:
        if not args.no_setup:
            manage(env, "migrate", "--noinput")
            manage(env, "loadtest_seed", "--force")
        manage(env, "collectstatic", "--noinput", "-v0")
        worker_log, web_log = folder / "worker.log", folder / "gunicorn.log"
        STACK["worker"] = start(
            [
                sys.executable, "-m", "celery", "-A", "salesprep", "worker", "--loglevel=INFO",
                f"--concurrency={args.worker_concurrency}", "-Q", env["LOADTEST_QUEUE"],
                "-n", f"loadtest-{os.getpid()}@%h",
            ],
            env,
            worker_log,
        )  # fmt: skip
        STACK["web"] = start(
            [
                sys.executable, "-m", "gunicorn", "salesprep.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
            ],
            env,
            web_log,
        )  # fmt: skip
        wait_for("gunicorn", lambda: healthy(url), STACK["web"], web_log)
        wait_for(
            "the worker", lambda: " ready." in worker_log.read_text(), STACK["worker"], worker_log
        )
        say(f"gunicorn ({args.workers} workers) on {url} and the Celery worker are up")

        load_before = os.getloadavg()
        result = locust(args, env, url, folder)
        before, during, after = result["memory"]
        load_after = result["load_average"]
        alive = {group: proc.poll() is None for group, proc in STACK.items()}
    finally:
        for group in ("web", "worker"):
            stop(STACK.pop(group, None))
    summary = summarise(result["measured"], result["warmup"], result["seconds"])
    summary["server_errors"] = server_errors(web_log) + server_errors(worker_log)
    summary["errors"] += len(summary["server_errors"])
    summary["population"] = {
        "reps": args.reps,
        "managers": args.managers,
        "executives": args.executives,
    }
    summary["users_ready"] = result["users_ready"]
    cpu = result["cpu"]
    total = cpu.pop("machine_total")
    busy = cpu.pop("machine_busy")
    summary["cpu_seconds"] = {
        **cpu,
        "others": round(max(0.0, busy - sum(cpu.values())), 1),
        "idle": round(total - busy, 1),
        "cores": os.cpu_count(),
    }
    summary["gunicorn_workers"] = args.workers
    summary["load_average"] = {"before": load_before, "after": load_after}
    summary["memory"] = {}
    for group in ("web", "worker"):
        first, last = before[group]["total_kb"], after[group]["total_kb"]
        peak = max([m[group]["total_kb"] for m in during] + [last])
        summary["memory"][group] = {
            "before_kb": first,
            "after_kb": last,
            "peak_kb": peak,
            "growth_pct": round((last - first) / first * 100, 1) if first else None,
            "processes_before": len(before[group]["processes"]),
            "processes_after": len(after[group]["processes"]),
            "alive": alive[group],
        }
    summary["limits"] = {"p95_ms": args.p95_limit, "rss_growth_pct": args.rss_growth_limit}
    summary["failures"] = verdict(summary, args)
    summary["passed"] = not summary["failures"]
    summary["folder"] = str(folder)
    if args.keep:
        say(f"logs and CSV kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return summary


def verdict(summary: dict, args) -> list[str]:
    failures = []
    if summary["errors"]:
        failures.append(f"{summary['errors']} errors")
    users = sum(summary["population"].values())
    if summary["users_ready"] != users:
        failures.append(f"{summary['users_ready']} of {users} users started")
    if summary["requests"] == 0:
        failures.append("no requests were made")
    if summary["p95_ms"] > args.p95_limit:
        failures.append(f"p95 {summary['p95_ms']} ms > {args.p95_limit:g} ms")
    for group, mem in summary["memory"].items():
        if not mem["alive"]:
            failures.append(f"the {group} processes died during the run")
        if mem["growth_pct"] is None or mem["growth_pct"] >= args.rss_growth_limit:
            failures.append(
                f"{group} memory grew {mem['growth_pct']} % (limit {args.rss_growth_limit:g} %)"
            )
    return failures


def report(summary: dict) -> str:
    pop = summary["population"]
    lines = [
        "",
        f"SalesPrep load test: {pop['reps']} reps, {pop['managers']} managers, "
        f"{pop['executives']} executives for {summary['seconds']:g} s "
        f"(gunicorn {summary['gunicorn_workers']} workers)",
        f"load average before {summary['load_average']['before']}, "
        f"after {summary['load_average']['after']}",
        "CPU seconds in the window: "
        + ", ".join(f"{k} {v}" for k, v in summary["cpu_seconds"].items()),
        f"requests {summary['requests']}  throughput {summary['throughput_rps']} req/s  "
        f"errors {summary['errors']}",
        f"latency p50 {summary['p50_ms']} ms  p95 {summary['p95_ms']} ms  "
        f"p99 {summary['p99_ms']} ms  max {summary['max_ms']} ms",
        f"sign-ins (warm-up, PBKDF2) {summary['logins']['requests']}: "
        f"p50 {summary['logins']['p50_ms']} ms  max {summary['logins']['max_ms']} ms",
        "",
        f"{'endpoint':<48} {'reqs':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}",
    ]
    for name, s in summary["endpoints"].items():
        lines.append(
            f"{name[:48]:<48} {s['requests']:>6} {s['p50_ms']:>7} {s['p95_ms']:>7} "
            f"{s['p99_ms']:>7} {s['max_ms']:>7}"
        )
    lines.append("")
    for group, mem in summary["memory"].items():
        lines.append(
            f"RSS {group:<6} before {mem['before_kb'] / 1024:7.1f} MiB  after "
            f"{mem['after_kb'] / 1024:7.1f} MiB  peak {mem['peak_kb'] / 1024:7.1f} MiB  "
            f"growth {mem['growth_pct']} %  ({mem['processes_after']} processes)"
        )
    for error in summary["first_errors"] + summary["server_errors"][:5]:
        lines.append(f"error: {error}")
    lines.append("PASS" if summary["passed"] else "FAIL: " + "; ".join(summary["failures"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        summary = run(args)
    except Interrupted as exc:
        say(f"interrupted ({exc}); everything the run started is stopped")
        return 2
    say(report(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

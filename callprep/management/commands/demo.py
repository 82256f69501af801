"""`manage.py demo`: migrate, seed the demo data, then run web, worker and beat together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from callprep.demo import load


class Command(BaseCommand):
    help = "Set up the demo data and run SalesPrep (web server, Celery worker and beat)."

    def add_arguments(self, parser):
        parser.add_argument("--seed-only", action="store_true", help="Seed the data and exit.")
        parser.add_argument(
            "--no-evidence",
            action="store_true",
            help="Do not start collecting evidence for the demo accounts (e.g. for benchmarks).",
        )
        parser.add_argument("--port", type=int, default=8000, help="Web server port (8000).")
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (127.0.0.1).")

    def handle(self, *args, seed_only: bool, no_evidence: bool, port: int, host: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Refusing to create demo users with a published password while DEBUG is off. "
                "The demo is for a local first look; run it with DEBUG=true."
            )
        if not 1 <= port <= 65535:
            raise CommandError(f"--port {port} is not a valid TCP port.")
        started = time.monotonic()
        # The demo companies are fictional: their evidence comes from the recordings bundled
        # in callprep/evidence/recordings/, through the same clients, with no network. Settings
        # were loaded before this command ran, so set this process's setting too; the worker
        # and web processes started below inherit the environment variable.
        transport = os.environ.setdefault("EVIDENCE_TRANSPORT", "replay")
        settings.EVIDENCE_TRANSPORT = transport
        call_command("migrate", interactive=False, verbosity=0)
        users = load.seed(evidence=not no_evidence)
        self.stdout.write(
            self.style.SUCCESS("Demo data is ready (fictional companies and people).")
        )
        if no_evidence:
            self.stdout.write("No evidence collection started (--no-evidence).")
        elif transport == "replay":
            self.stdout.write(
                "Evidence is collected from recorded responses (no network); the worker "
                "starts on it as soon as it runs."
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"EVIDENCE_TRANSPORT={transport}: the worker will ask the live sources "
                    "about fictional companies, so most evidence will be missing."
                )
            )
        self.stdout.write(f"Demo users: {', '.join(users)} — password: {load.DEMO_PASSWORD}")
        if seed_only:
            return
        self._run(host, port, started)

    def _run(self, host: str, port: int, started: float) -> None:
        python = sys.executable
        worker = subprocess.Popen(
            [
                python,
                "-m",
                "celery",
                "-A",
                "salesprep",
                "worker",
                "--beat",
                "--loglevel=INFO",
                "--concurrency=2",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ],
        )
        web = subprocess.Popen(
            [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            cwd=settings.BASE_DIR,
        )
        children = [web, worker]
        broker = "Redis" if settings.REDIS_URL else "the embedded file broker"
        self.stdout.write(
            self.style.SUCCESS(
                f"SalesPrep is starting at http://{host}:{port}/ "
                f"(worker and beat on {broker}; set up in {time.monotonic() - started:.1f} s). "
                "Press Ctrl-C to stop."
            )
        )
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.3)
        finally:
            self.stdout.write("Stopping the web server and the worker…")
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            self.stdout.write("Stopped.")
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
        if failed and not stopping:
            raise CommandError("A demo process stopped unexpectedly; see the output above.")

"""`manage.py demo`: migrate, seed the demo data, then run web, worker and beat together."""

from __future__ import annotations

import os
import signal
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from callprep.demo import load, supervise


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
        celery = [python, "-m", "celery", "-A", "salesprep"]
        worker = [*celery, "worker", "--loglevel=INFO", "--concurrency=2"]
        if not settings.REDIS_URL:
            # Gossip, mingle and heartbeats broadcast through the embedded broker's exchange
            # files, and nothing on one machine needs them (salesprep/filebroker.py).
            worker += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        beat = [
            *celery,
            "beat",
            "--loglevel=INFO",
            f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
        ]
        web = [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]
        url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        # The links in e-mails and the calendar feed's address point at this server, unless
        # SITE_URL says otherwise; the web server, worker and beat inherit the variable.
        os.environ.setdefault("SITE_URL", url)
        group = supervise.Group(self.stdout.write, cwd=settings.BASE_DIR)
        group.start("web server", web)
        group.start("worker", worker)
        group.start("beat", beat)
        broker = "Redis" if settings.REDIS_URL else "the embedded file broker"
        self.stdout.write(
            self.style.SUCCESS(
                f"SalesPrep is starting at {url}/ "
                f"(worker and beat on {broker}; set up in {time.monotonic() - started:.1f} s). "
                "Press Ctrl-C to stop."
            )
        )
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and not group.gave_up:
                group.restart_the_dead()
                time.sleep(0.3)
        finally:
            self.stdout.write("Stopping the web server, the worker and beat…")
            group.stop()
            self.stdout.write("Stopped.")
        if group.gave_up:
            raise CommandError(f"{group.gave_up}; see the output above.")

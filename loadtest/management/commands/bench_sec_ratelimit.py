"""`manage.py bench_sec_ratelimit`: prove the shared SEC rate limit holds across processes.

Starts a fake SEC server on 127.0.0.1 that records when each request arrives, runs worker
PROCESSES that fetch from it through the real SEC client (``clients.sec_fetcher``) and the
Redis limiter, then prints the most requests the server saw in any one-second window. SEC
allows 10; the command exits with an error above that.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from bisect import bisect_left
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SEC_LIMIT = 10


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    """The most timestamps inside any half-open window ``[t, t + window)``."""
    stamps = sorted(stamps)
    best = 0
    for i, start in enumerate(stamps):
        best = max(best, bisect_left(stamps, start + window, lo=i) - i)
    return best


class _FakeSEC(BaseHTTPRequestHandler):
    stamps: list[float] = []
    lock = threading.Lock()

    def do_GET(self):  # the http.server API names it
        with self.lock:
            self.stamps.append(time.monotonic())
        body = b'{"cik": "1999001", "name": "Benchmark"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _worker(base_url: str, requests: int, number: int) -> None:
    """One worker process: fetch ``requests`` times through the real SEC client."""
    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.conf import settings as worker_settings

    from callprep.evidence import clients

    worker_settings.EVIDENCE_TRANSPORT = "live"
    # A declared User-Agent: the SEC setting lives in the database, which a spawned process of
    # the benchmark (run by the tests) may not reach.
    with clients.sec_fetcher("SalesPrep rate-limit benchmark bench@example.com") as fetch:
        for i in range(requests):
            fetch.get(f"{base_url}/submissions/CIK{number:04d}{i:06d}.json")


class Command(BaseCommand):
    help = "Measure the shared SEC rate limit with worker processes and a local fake SEC server."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--requests", type=int, default=40, help="Requests per worker.")

    def handle(self, *args, workers: int, requests: int, **options):
        if not settings.REDIS_URL:
            raise CommandError(
                "Set REDIS_URL: without Redis each process has its own limiter (the embedded "
                "demo), so several processes together may exceed SEC's limit."
            )
        from callprep.evidence.ratelimit import limiter

        limiter().client.delete(limiter().prefix + "sec")
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
        server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSEC)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base_url = f"http://127.0.0.1:{server.server_port}"
        context = multiprocessing.get_context("spawn")
        started = time.monotonic()
        processes = [
            context.Process(target=_worker, args=(base_url, requests, n)) for n in range(workers)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        elapsed = time.monotonic() - started
        server.shutdown()
        stamps = list(_FakeSEC.stamps)
        failed = [p.exitcode for p in processes if p.exitcode]
        if failed:
            raise CommandError(f"A worker process failed (exit codes {failed}).")
        peak = max_in_window(stamps)
        self.stdout.write(
            f"{len(stamps)} requests from {workers} worker processes in {elapsed:.1f} s; "
            f"max requests in any 1 s window: {peak} (SEC allows {SEC_LIMIT})"
        )
        if len(stamps) != workers * requests:
            raise CommandError(f"Expected {workers * requests} requests, saw {len(stamps)}.")
        if peak > SEC_LIMIT:
            raise CommandError(f"The limit was exceeded: {peak} requests in one second.")

"""Helpers for tests that run the project in a subprocess, as a user or an operator would, and
the evidence settings shared by the tests that collect evidence in-process and in workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def project_env(**overrides: str | None) -> dict[str, str]:
    """The current environment for a child process, with overrides (None removes a name)."""
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for browser tests only
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def replayed_evidence_settings() -> dict:
    """Evidence from the recordings, never the network: no rate limits, no waiting between
    retries, no task retries (a fresh dict each time: tests change the lists in it)."""
    return {
        "EVIDENCE_TRANSPORT": "replay",
        "EVIDENCE_REPLAY_ROUTES": [],
        "SEC_CONTACT_EMAIL": "research@salesprep.example",
        "FRED_API_KEY": "",
        "EVIDENCE_NEWS_FEEDS": [],
        "EVIDENCE_BACKOFF_SECONDS": 0.001,
        "EVIDENCE_FETCH_RETRIES": 1,
        "EVIDENCE_TASK_RETRIES": 0,
        "EVIDENCE_RATE_LIMITS": dict.fromkeys(
            ("sec", "fred", "gdelt", "worldbank", "website", "feed")
        ),
    }


def import_calendar(client, body: bytes | str, name: str = "calendar.ics", people=()):
    """Upload an .ics file as its user would, press "Import" on its preview (ticking these
    attendees, ``account id:e-mail``), run what the worker runs with the import it queued, and
    answer the import's page (or the upload's answer when it was refused)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from callprep.tasks import import_calendar_upload

    data = body.encode() if isinstance(body, str) else body
    response = client.post(
        reverse("callprep:calendar_import"),
        {"file": SimpleUploadedFile(name, data, "text/calendar")},
    )
    if response.status_code != 302:
        return response
    pk = int(response.url.rstrip("/").rsplit("/", 1)[1])
    pressed = client.post(response.url, {"action": "import", "person": list(people)})
    assert pressed.status_code == 302, pressed.content.decode()[-2000:]
    import_calendar_upload.run(pk)
    return client.get(response.url)

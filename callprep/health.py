"""Health of the parts the app depends on, for /healthz and the operators."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down" to a health check
        return False, type(exc).__name__
    return True, "ok"


def broker_state() -> str:
    """'ok', 'down' or 'embedded' (the file broker of the first-run setup)."""
    from salesprep.celery import app

    if not settings.REDIS_URL:
        return "embedded"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            conn.default_channel.client.ping()
    except Exception:
        return "down"
    return "ok"

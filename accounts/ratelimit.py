"""Per-user limits on costly requests (file imports, evidence refreshes), kept in the cache that
every worker process shares.

A fixed window per user and action: the first request opens a window of ``window`` seconds in
which at most ``limit`` requests are allowed; the window's key expires with it. ``hit`` answers
0 when the request may go ahead, else the seconds until the window closes (the Retry-After).

Limits (``LIMITS``; the setting ``REQUEST_RATE_LIMITS`` overrides them by name with
``(limit, window seconds)``, or ``None`` for no limit):

* ``csv_import``: 10 CRM CSV uploads per 10 minutes per user;
* ``ics_import``: 10 calendar uploads per 10 minutes per user;
* ``password_reset_address``: 10 password reset requests per hour per client address (more are
  refused with a message);
* ``password_reset_email``: 3 reset e-mails per hour per address typed (more are not sent; the
  page says "sent" as always, so it tells nothing about accounts).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse


@dataclass(frozen=True)
class Limit:
    limit: int
    window: int  # seconds


LIMITS: dict[str, Limit] = {
    "csv_import": Limit(10, 600),
    "ics_import": Limit(10, 600),
    "password_reset_address": Limit(10, 3600),
    "password_reset_email": Limit(3, 3600),
}


def limit_for(name: str) -> Limit | None:
    overrides = getattr(settings, "REQUEST_RATE_LIMITS", None) or {}
    if name in overrides:
        value = overrides[name]
        return None if value is None else Limit(int(value[0]), int(value[1]))
    return LIMITS.get(name)


def hit(name: str, key: object, limit: Limit | None = None) -> int:
    """Count one request of ``name`` by ``key`` (a user's pk, or "user:account"); 0 when it
    is allowed, else the whole seconds to wait (at least 1)."""
    limit = limit or limit_for(name)
    if limit is None:
        return 0
    base = f"ratelimit:{name}:{key}"
    now = time.time()
    # The window opens with the first request; both keys expire when it closes.
    if cache.add(f"{base}:start", now, timeout=limit.window):
        cache.set(f"{base}:count", 1, timeout=limit.window)
        return 0
    try:
        count = cache.incr(f"{base}:count")
    except ValueError:  # the window closed between the two calls: this request opens a new one
        cache.set(f"{base}:start", now, timeout=limit.window)
        cache.set(f"{base}:count", 1, timeout=limit.window)
        return 0
    if count <= limit.limit:
        return 0
    started = cache.get(f"{base}:start") or now
    return max(1, math.ceil(started + limit.window - now))


def wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def refusal(name: str, seconds: int) -> str:
    """What the user reads on the form answered with 429."""
    limit = limit_for(name)
    per = f" ({limit.limit} per {wait_text(limit.window)})" if limit else ""
    return (
        f"You have uploaded too many files in a short time{per}. "
        f"Nothing was imported; try again in {wait_text(seconds)}."
    )


def too_many(response: HttpResponse, seconds: int) -> HttpResponse:
    """Mark a rendered page as the 429 answer, with the Retry-After header."""
    response.status_code = 429
    response["Retry-After"] = str(seconds)
    return response

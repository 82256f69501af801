"""Rate limits shared by every worker process, kept in Redis.

A sliding-window log: per limit, a sorted set of the times at which a request was allowed.
One Lua script, run atomically by Redis on Redis's own clock, drops entries older than the
window, and either records the new request (when fewer than ``limit`` are in the window) or
answers how long to wait. So across all processes at most ``limit`` requests start in any
window of ``window`` seconds.

Limits (``LIMITS``; a setting ``EVIDENCE_RATE_LIMITS`` may override them, e.g. in tests):

* SEC: 10 requests per 1.1 s (SEC allows 10 per second; the 10 % margin absorbs the time
  between being allowed and the request reaching SEC, so SEC never sees 11 in a second);
* FRED: 2 per second;
* GDELT: one request per 5 seconds.

Without Redis (``REDIS_URL`` empty: the embedded demo) the same algorithm runs in memory,
per process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings


@dataclass(frozen=True)
class Limit:
    limit: int
    window: float  # seconds


LIMITS: dict[str, Limit] = {
    "sec": Limit(10, 1.1),
    "fred": Limit(2, 1.0),
    "gdelt": Limit(1, 5.0),
    "worldbank": Limit(5, 1.0),
    "website": Limit(2, 1.0),
    "feed": Limit(5, 1.0),
}

# KEYS[1]: the sorted set; ARGV: limit, window in microseconds, a unique member.
# Returns 0 when allowed, else the microseconds to wait.
SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
"""


class RateLimitTimeout(Exception):
    """Waited too long for a turn; treated as a transient failure."""


def limit_for(name: str) -> Limit | None:
    overrides = getattr(settings, "EVIDENCE_RATE_LIMITS", None) or {}
    if name in overrides:
        value = overrides[name]
        return None if value is None else Limit(int(value[0]), float(value[1]))
    return LIMITS.get(name)


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "salesprep:ratelimit:") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(SLIDING_WINDOW)
        self.prefix = prefix

    def try_acquire(self, name: str, limit: Limit) -> float:
        """0 when allowed now, else the seconds to wait before trying again."""
        member = uuid.uuid4().hex
        wait = self.script(
            keys=[self.prefix + name], args=[limit.limit, int(limit.window * 1_000_000), member]
        )
        return int(wait) / 1_000_000


class LocalLimiter:
    """The same sliding window, in memory, for one process (no Redis in the embedded demo)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.log: dict[str, deque[float]] = {}

    def try_acquire(self, name: str, limit: Limit) -> float:
        with self.lock:
            now = self.clock()
            times = self.log.setdefault(name, deque())
            while times and times[0] <= now - limit.window:
                times.popleft()
            if len(times) < limit.limit:
                times.append(now)
                return 0.0
            return max(times[0] + limit.window - now, 0.001)


_local = LocalLimiter()


@cache
def _redis_limiter(url: str) -> RedisLimiter:
    return RedisLimiter(url)


def limiter() -> RedisLimiter | LocalLimiter:
    url = getattr(settings, "REDIS_URL", "")
    return _redis_limiter(url) if url else _local


def acquire(name: str, *, max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep):
    """Block until a request to ``name`` is allowed (or raise RateLimitTimeout)."""
    limit = limit_for(name)
    if limit is None:
        return
    backend = limiter()
    deadline = time.monotonic() + max_wait
    while True:
        wait = backend.try_acquire(name, limit)
        if wait <= 0:
            return
        if time.monotonic() + wait > deadline:
            raise RateLimitTimeout(f"waited more than {max_wait:.0f} s for a turn at {name}")
        sleep(wait)

"""The shared rate limiter: a sliding window in Redis, and in memory without Redis."""

from __future__ import annotations

import re
import uuid
from io import StringIO

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command

from callprep.evidence import clients, ratelimit
from loadtest.management.commands.bench_sec_ratelimit import max_in_window


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_local_limiter_allows_the_limit_then_says_how_long_to_wait():
    clock = FakeClock()
    local = ratelimit.LocalLimiter(clock)
    limit = ratelimit.Limit(2, 1.0)
    assert local.try_acquire("x", limit) == 0
    assert local.try_acquire("x", limit) == 0
    assert local.try_acquire("x", limit) == pytest.approx(1.0)
    clock.now += 1.0
    assert local.try_acquire("x", limit) == 0


def test_the_redis_limiter_shares_one_window_between_clients():
    name = f"test-{uuid.uuid4().hex}"
    first = ratelimit.RedisLimiter(settings.REDIS_URL)
    second = ratelimit.RedisLimiter(settings.REDIS_URL)
    limit = ratelimit.Limit(3, 5.0)
    assert [first.try_acquire(name, limit) for _ in range(2)] == [0, 0]
    assert second.try_acquire(name, limit) == 0
    wait = second.try_acquire(name, limit)
    assert 4.0 < wait <= 5.0
    first.client.delete(first.prefix + name)


def test_acquire_waits_its_turn_and_gives_up_after_the_maximum_wait(settings):
    settings.EVIDENCE_RATE_LIMITS = {"slow": (1, 30.0)}
    slept = []
    name_limit = ratelimit.limit_for("slow")
    assert name_limit == ratelimit.Limit(1, 30.0)
    ratelimit.limiter().client.delete(ratelimit.limiter().prefix + "slow")
    ratelimit.acquire("slow", sleep=slept.append)
    with pytest.raises(ratelimit.RateLimitTimeout):
        ratelimit.acquire("slow", max_wait=1.0, sleep=slept.append)
    assert slept == []


def test_the_sec_gdelt_and_fred_limits_are_as_documented():
    assert ratelimit.LIMITS["sec"].limit == 10 and ratelimit.LIMITS["sec"].window >= 1.0
    assert ratelimit.LIMITS["fred"] == ratelimit.Limit(2, 1.0)
    assert ratelimit.LIMITS["gdelt"] == ratelimit.Limit(1, 5.0)


def test_the_window_count_is_the_most_requests_in_any_second():
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.2]) == 4  # [0.5, 1.5)
    assert max_in_window([0.0, 1.0, 2.0]) == 1
    assert max_in_window([]) == 0


def test_retries_back_off_only_for_timeouts_429_and_5xx(settings):
    calls = []

    def handler(request):
        calls.append(request.url.path)
        status = {"/a": 503, "/b": 400}[request.url.path]
        return httpx.Response(status, request=request)

    settings.EVIDENCE_RATE_LIMITS = {"t": None}
    fetch = clients.Fetcher("Test source", "t", retries=2, sleep=lambda s: None)
    with fetch:
        fetch.client = httpx.Client(transport=httpx.MockTransport(handler))
        with pytest.raises(clients.TransientFailure, match=r"server error \(503\) \(tried 3"):
            fetch.get("https://t.example/a")
        with pytest.raises(clients.SourceFailure, match=r"refused the request \(400\)") as info:
            fetch.get("https://t.example/b")
    assert not isinstance(info.value, clients.TransientFailure)
    assert calls == ["/a", "/a", "/a", "/b"]


def test_backoff_grows_exponentially_with_jitter():
    delays = [clients.backoff_delay(n, base=1.0) for n in range(4)]
    for n, delay in enumerate(delays):
        assert 2**n / 2 <= delay <= 2**n


@pytest.mark.worker
def test_two_worker_processes_never_exceed_ten_sec_requests_a_second():
    out = StringIO()
    call_command("bench_sec_ratelimit", "--requests", "12", stdout=out)
    peak = int(re.search(r"any 1 s window: (\d+)", out.getvalue()).group(1))
    assert 1 < peak <= 10

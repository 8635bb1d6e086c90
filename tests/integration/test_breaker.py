"""Circuit breakers on a real Redis (the shared one, or a private one we stop)."""

import logging
import multiprocessing
import time
import uuid
from collections.abc import Callable

import pybreaker
import pytest
import redis

from services.errors import TransientError, ValidationError
from services.resilience.breaker import BreakerOpen, CircuitBreaker
from tests.support.servers import start_embedded_redis


class Upstream:
    """A stand-in for a provider call that counts how often it is really called."""

    def __init__(self) -> None:
        self.calls = 0
        self.failing = True

    def __call__(self) -> str:
        self.calls += 1
        if self.failing:
            raise TransientError("upstream 503")
        return "ok"


def _breaker(url: str, name: str, **options: float) -> CircuitBreaker:
    defaults: dict = {"fail_max": 3, "reset_timeout_s": 60.0}
    return CircuitBreaker(name, redis.Redis.from_url(url), **(defaults | options))


def _fail(breaker: CircuitBreaker, upstream: Callable[[], str], times: int) -> None:
    for _ in range(times):
        with pytest.raises((TransientError, ValidationError)):
            breaker.call(upstream)


def test_the_breaker_opens_at_fail_max_and_then_fails_fast_without_calling(redis_url: str) -> None:
    breaker, upstream = _breaker(redis_url, "p1"), Upstream()
    _fail(breaker, upstream, 3)
    assert breaker.current_state == pybreaker.STATE_OPEN
    with pytest.raises(BreakerOpen) as raised:
        breaker.call(upstream)
    assert upstream.calls == 3
    assert 58 < raised.value.min_delay_s <= 60


def test_permanent_errors_never_trip_it(redis_url: str) -> None:
    breaker = _breaker(redis_url, "p2")

    def bad_photo() -> str:
        raise ValidationError("not an image")

    _fail(breaker, bad_photo, 10)
    assert breaker.current_state == pybreaker.STATE_CLOSED


def test_after_the_reset_timeout_one_trial_closes_it_on_success(redis_url: str) -> None:
    breaker, upstream = _breaker(redis_url, "p3", reset_timeout_s=0.3), Upstream()
    _fail(breaker, upstream, 3)
    time.sleep(0.35)
    upstream.failing = False
    assert breaker.call(upstream) == "ok"
    assert breaker.current_state == pybreaker.STATE_CLOSED
    assert breaker.fail_counter == 0


def test_a_failed_trial_opens_it_again(redis_url: str) -> None:
    breaker, upstream = _breaker(redis_url, "p4", reset_timeout_s=0.3), Upstream()
    _fail(breaker, upstream, 3)
    time.sleep(0.35)
    _fail(breaker, upstream, 1)
    assert upstream.calls == 4
    with pytest.raises(BreakerOpen):
        breaker.call(upstream)
    assert upstream.calls == 4


def test_a_breaker_opened_by_one_process_is_open_in_another(redis_url: str) -> None:
    name = f"shared-{uuid.uuid4().hex[:6]}"
    first, upstream = _breaker(redis_url, name), Upstream()
    _fail(first, upstream, 3)
    second = _breaker(redis_url, name)  # its own client and state object, as in another worker
    with pytest.raises(BreakerOpen):
        second.call(upstream)
    assert upstream.calls == 3


def _trial_in_child(
    url: str, name: str, start_at: float, results: "multiprocessing.Queue[str]"
) -> None:
    client = redis.Redis.from_url(url)
    breaker = CircuitBreaker(name, client, fail_max=1, reset_timeout_s=0.5)

    def upstream() -> str:
        client.incr(f"{name}:upstream-calls")
        time.sleep(0.3)  # the trial is still running when the others arrive
        return "ok"

    time.sleep(max(0.0, start_at - time.time()))
    try:
        results.put(breaker.call(upstream))
    except BreakerOpen:
        results.put("fast-fail")


def test_many_processes_in_half_open_send_only_the_bounded_trials(
    redis_url: str, redis_client: redis.Redis
) -> None:
    name = f"trial-{uuid.uuid4().hex[:6]}"
    breaker = _breaker(redis_url, name, fail_max=1, reset_timeout_s=0.5)
    _fail(breaker, Upstream(), 1)
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[str] = context.Queue()
    start_at = time.time() + 1.0  # after the reset timeout, all at once
    children = [
        context.Process(target=_trial_in_child, args=(redis_url, name, start_at, results))
        for _ in range(12)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    outcomes = sorted(results.get(timeout=5) for _ in children)
    assert redis_client.get(f"{name}:upstream-calls") == "1"
    assert outcomes.count("ok") == 1 and outcomes.count("fast-fail") == 11


def test_a_listener_that_raises_never_breaks_the_call(redis_url: str) -> None:
    class Broken(pybreaker.CircuitBreakerListener):
        def before_call(self, *args: object) -> None:
            raise RuntimeError("listener bug")

        def success(self, *args: object) -> None:
            raise RuntimeError("listener bug")

    breaker = CircuitBreaker(
        "p5", redis.Redis.from_url(redis_url), fail_max=3, reset_timeout_s=60, listeners=[Broken()]
    )
    upstream = Upstream()
    upstream.failing = False
    assert breaker.call(upstream) == "ok"


def test_a_decoding_client_is_refused(redis_url: str) -> None:
    with pytest.raises(ValueError, match="does not decode"):
        CircuitBreaker(
            "p6",
            redis.Redis.from_url(redis_url, decode_responses=True),
            fail_max=3,
            reset_timeout_s=60,
        )


def test_redis_down_falls_back_to_an_in_process_breaker_and_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = start_embedded_redis()  # private: this test stops it
    url = server.url
    try:
        server.stop()
        # Constructed while Redis is down: no crash.
        breaker = _breaker(url, "p7", fail_max=3, reset_timeout_s=60, redis_retry_s=0.2)
        upstream = Upstream()
        with caplog.at_level(logging.WARNING):
            _fail(breaker, upstream, 3)
        assert "Redis unreachable" in caplog.text
        with pytest.raises(BreakerOpen):  # counted in memory: it still opened
            breaker.call(upstream)
        assert upstream.calls == 3

        server.start()  # Redis is back: after the retry interval the state is shared again
        time.sleep(0.3)
        breaker.storage._open_until = 0.0
        with caplog.at_level(logging.WARNING):
            assert breaker.current_state == pybreaker.STATE_CLOSED  # Redis never saw those
        assert "Redis reachable again" in caplog.text
        assert not breaker.storage.degraded
    finally:
        server.stop()

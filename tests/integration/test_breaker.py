"""Circuit breakers on a real Redis (the shared one, or a private one we stop)."""

import base64
import logging
import multiprocessing
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pybreaker
import pytest
import redis

from services.errors import TransientError, ValidationError
from services.identification.samples import sample_png
from services.resilience.breaker import BreakerOpen, CircuitBreaker
from tests.support.sandbox import Sandbox
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


def _trial_in_child(url: str, name: str, sandbox_url: str, start_at: float, results: Any) -> None:
    breaker = CircuitBreaker(name, redis.Redis.from_url(url), fail_max=1, reset_timeout_s=0.5)

    def upstream() -> str:  # a real HTTP call to the sandbox's Plant.id
        image = base64.b64encode(sample_png(1)).decode()
        response = httpx.post(
            f"{sandbox_url}/plant-id/v3/identification",
            json={"images": [image]},
            headers={"Api-Key": "k"},
            timeout=10,
        )
        return str(response.status_code)

    time.sleep(max(0.0, start_at - time.time()))
    try:
        results.put(breaker.call(upstream))
    except BreakerOpen:
        results.put("fast-fail")


def test_many_processes_in_half_open_send_only_the_bounded_trials_to_the_sandbox(
    redis_url: str, sandbox: Sandbox
) -> None:
    name = f"trial-{uuid.uuid4().hex[:6]}"
    breaker = _breaker(redis_url, name, fail_max=1, reset_timeout_s=0.5)
    _fail(breaker, Upstream(), 1)
    sandbox.configure(plant_id={"latency_ms": 300})  # the trial still runs when the rest arrive
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0  # after the reset timeout, all at once
    args = (redis_url, name, sandbox.server.url, start_at, results)
    children = [context.Process(target=_trial_in_child, args=args) for _ in range(12)]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    outcomes = sorted(results.get(timeout=5) for _ in children)
    assert sandbox.calls()["plant_id"] == 1
    assert outcomes.count("201") == 1 and outcomes.count("fast-fail") == 11


def _fail_slowly_in_child(url: str, name: str, start_at: float, results: Any) -> None:
    breaker = CircuitBreaker(name, redis.Redis.from_url(url), fail_max=3, reset_timeout_s=60)
    client = redis.Redis.from_url(url)

    def upstream() -> str:  # the failing provider, still slow to say so
        client.incr(f"{name}:calls")
        time.sleep(0.3)
        raise TransientError("upstream 503")

    time.sleep(max(0.0, start_at - time.time()))
    try:
        breaker.call(upstream)
    except BreakerOpen:
        results.put("fast-fail")
    except TransientError:
        results.put("called")


def test_once_a_failure_is_on_record_calls_in_flight_spend_the_failure_budget(
    redis_url: str, redis_client: redis.Redis
) -> None:
    name = f"budget-{uuid.uuid4().hex[:6]}"
    _fail(_breaker(redis_url, name, fail_max=3), Upstream(), 1)  # one failure on record
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0  # twelve processes, all at once
    children = [
        context.Process(target=_fail_slowly_in_child, args=(redis_url, name, start_at, results))
        for _ in range(12)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    outcomes = sorted(results.get(timeout=5) for _ in children)
    assert redis_client.get(f"{name}:calls") == "2"  # fail_max 3, one spent already
    assert outcomes.count("called") == 2 and outcomes.count("fast-fail") == 10
    assert _breaker(redis_url, name).current_state == pybreaker.STATE_OPEN


def test_a_success_gives_the_whole_budget_back(redis_url: str) -> None:
    breaker, upstream = _breaker(redis_url, "p9", fail_max=3), Upstream()
    _fail(breaker, upstream, 2)
    upstream.failing = False
    assert breaker.call(upstream) == "ok"
    assert breaker.fail_counter == 0
    upstream.failing = True
    _fail(breaker, upstream, 2)
    assert breaker.current_state == pybreaker.STATE_CLOSED


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


def test_a_breaker_built_while_redis_is_down_does_not_crash() -> None:
    server = start_embedded_redis()
    server.stop()
    breaker = _breaker(server.url, "p7")
    assert breaker.current_state == pybreaker.STATE_CLOSED
    assert breaker.storage.degraded


def test_redis_stopped_mid_run_hands_over_to_an_in_process_breaker_and_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = start_embedded_redis()  # private: this test stops it
    try:
        breaker = _breaker(server.url, "p8", fail_max=3, reset_timeout_s=60, redis_retry_s=0.2)
        upstream = Upstream()
        _fail(breaker, upstream, 1)  # counted in Redis
        server.stop()
        with caplog.at_level(logging.WARNING):
            _fail(breaker, upstream, 2)  # counted in memory, from Redis's last count
        assert "Redis unreachable" in caplog.text
        with pytest.raises(BreakerOpen):  # it still opened: no failure went uncounted
            breaker.call(upstream)
        assert upstream.calls == 3

        server.start()  # Redis is back: after the retry interval the state is shared again
        time.sleep(0.3)
        breaker.storage._open_until = 0.0
        with caplog.at_level(logging.WARNING):
            breaker.current_state  # noqa: B018  (reads Redis again)
        assert "Redis reachable again" in caplog.text
        assert not breaker.storage.degraded
    finally:
        server.stop()

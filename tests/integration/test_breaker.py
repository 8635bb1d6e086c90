"""Circuit breakers on a real Redis (the shared one, or a private one we stop), across threads
and forked processes."""

import base64
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from harness.forked import FORK, run_processes
from harness.observe import breaker_trial_due, eventually
from harness.sandbox import Sandbox
from harness.servers import start_embedded_redis
from localkit.samples import sample_png
from services.errors import TransientError, ValidationError
from services.resilience.breaker import BreakerOpen, CircuitBreaker


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


def _wait_for_trial(url: str, name: str, reset_timeout_s: float) -> None:
    client = redis.Redis.from_url(url)
    eventually(
        lambda: breaker_trial_due(client, name, reset_timeout_s=reset_timeout_s),
        what=f"{name}'s reset timeout on Redis's clock",
    )
    client.close()


def _fail(breaker: CircuitBreaker, upstream: Callable[[], str], times: int) -> None:
    for _ in range(times):
        with pytest.raises((TransientError, ValidationError)):
            breaker.call(upstream)


def test_the_breaker_opens_at_fail_max_and_then_fails_fast_without_calling(redis_url: str) -> None:
    breaker, upstream = _breaker(redis_url, "p1"), Upstream()
    _fail(breaker, upstream, 3)
    assert breaker.current_state == "open"
    with pytest.raises(BreakerOpen) as raised:
        breaker.call(upstream)
    assert upstream.calls == 3
    assert 58 < raised.value.min_delay_s <= 60


def test_permanent_errors_never_trip_it(redis_url: str) -> None:
    breaker = _breaker(redis_url, "p2")

    def bad_photo() -> str:
        raise ValidationError("not an image")

    _fail(breaker, bad_photo, 10)
    assert breaker.current_state == "closed"


def test_after_the_reset_timeout_one_trial_closes_it_on_success(redis_url: str) -> None:
    breaker, upstream = _breaker(redis_url, "p3", reset_timeout_s=0.3), Upstream()
    _fail(breaker, upstream, 3)
    _wait_for_trial(redis_url, "p3", 0.3)
    upstream.failing = False
    assert breaker.call(upstream) == "ok"
    assert breaker.current_state == "closed"
    assert breaker.fail_counter == 0


def test_a_failed_trial_opens_it_again(redis_url: str) -> None:
    breaker, upstream = _breaker(redis_url, "p4", reset_timeout_s=0.3), Upstream()
    _fail(breaker, upstream, 3)
    _wait_for_trial(redis_url, "p4", 0.3)
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


def test_a_success_resets_the_count_even_when_failures_completed_while_it_ran(
    redis_url: str,
) -> None:
    """Consecutive failures, by completion: a success that ends after two failures clears them."""
    name = f"reset-{uuid.uuid4().hex[:6]}"
    slow, fast = _breaker(redis_url, name), _breaker(redis_url, name)  # two processes' worth
    slow_started, failures_done = threading.Event(), threading.Event()

    def slow_success() -> str:
        slow_started.set()
        failures_done.wait(5)  # started before the failures, ends after them
        return "ok"

    with_slow = threading.Thread(target=lambda: slow.call(slow_success))
    with_slow.start()
    assert slow_started.wait(5)
    _fail(fast, Upstream(), 2)
    failures_done.set()
    with_slow.join(5)
    assert fast.fail_counter == 0
    _fail(fast, Upstream(), 2)  # two more: not three in a row
    assert fast.current_state == "closed"


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
    start_at = time.time() + 1.0  # after the reset timeout, all at once
    args = (redis_url, name, sandbox.server.url, start_at)
    outcomes = sorted(run_processes(_trial_in_child, [args] * 12))
    assert sandbox.calls()["plant_id"] == 1
    assert outcomes.count("201") == 1 and outcomes.count("fast-fail") == 11


def _recover_in_child(url: str, name: str, start_at: float, results: Any) -> None:
    """Call from the moment the reset timeout ends until 25 calls went through (at most 2,000
    calls); log when each call started and ended, and its outcome."""
    breaker = CircuitBreaker(name, redis.Redis.from_url(url), fail_max=3, reset_timeout_s=1.0)
    outcomes: list[tuple[float, float, str]] = []
    time.sleep(max(0.0, start_at - time.time()))  # every process starts together
    while sum(o == "ok" for *_, o in outcomes) < 25 and len(outcomes) < 2_000:
        started = time.time()
        try:
            breaker.call(lambda: time.sleep(0.02))
            outcomes.append((started, time.time(), "ok"))
        except BreakerOpen:
            outcomes.append((started, time.time(), "refused"))
            time.sleep(0.01)
    results.put(outcomes)


def test_a_recovery_with_twenty_four_processes_closes_once_and_stays_closed(
    redis_url: str, redis_client: redis.Redis
) -> None:
    name = f"recover-{uuid.uuid4().hex[:6]}"
    _fail(_breaker(redis_url, name, reset_timeout_s=1.0), Upstream(), 3)
    generation = int(redis_client.hget(f"greenhouse:breaker:{name}", "gen"))
    start_at = time.time() + 1.1
    runs = run_processes(_recover_in_child, [(redis_url, name, start_at)] * 24)
    calls = [call for outcomes in runs for call in outcomes]
    closed_at = min(ended for _started, ended, outcome in calls if outcome == "ok")
    refused_after_close = [
        started
        for started, _ended, outcome in calls
        if outcome == "refused" and started > closed_at
    ]
    # One trial, one close: open -> half-open -> closed is exactly two generations.
    assert int(redis_client.hget(f"greenhouse:breaker:{name}", "gen")) == generation + 2
    assert refused_after_close == []  # once closed, no process is turned away again


def _skewed_clock_in_child(url: str, name: str, results: Any) -> None:
    real = time.time
    time.time = lambda: real() - 3600  # this host's wall clock is an hour behind
    breaker = CircuitBreaker(name, redis.Redis.from_url(url), fail_max=3, reset_timeout_s=0.5)
    outcomes: list[object] = []
    for wait_s in (0.0, 0.6):  # while open, then past the reset timeout
        time.sleep(wait_s)
        try:
            outcomes.append(breaker.call(lambda: "admitted"))
        except BreakerOpen as refused:
            outcomes.append(refused.min_delay_s)
    results.put(outcomes)


def test_a_host_whose_wall_clock_is_an_hour_off_closes_with_everyone_else(redis_url: str) -> None:
    name = f"clock-{uuid.uuid4().hex[:6]}"
    _fail(_breaker(redis_url, name, reset_timeout_s=0.5), Upstream(), 3)
    ((first, second),) = run_processes(_skewed_clock_in_child, [(redis_url, name)])
    # Open for everyone, for the reset timeout on Redis's clock: the skew neither shortens nor
    # stretches it, nor the retry delay it asks for.
    assert 0 < first <= 0.5  # seconds to wait, not an hour
    assert second == "admitted"


def _round_in_child(url: str, name: str, me: int, start: Any, failed: Any, results: Any) -> None:
    """Ten rounds: all sixteen call at once; one or two fail; every success ends after them."""
    breaker = CircuitBreaker(name, redis.Redis.from_url(url), fail_max=3, reset_timeout_s=60)
    refused = 0
    for round_ in range(10):
        failing = me in {round_ % 16, (round_ * 7 + 3) % 16} if round_ % 2 else me == round_
        start.wait(10)

        def upstream(failing: bool = failing) -> str:
            if failing:
                raise TransientError("this one fails")
            failed.wait(10)  # the failures have been recorded before any success ends
            return "ok"

        try:
            breaker.call(upstream)
        except TransientError:
            failed.wait(10)
        except BreakerOpen:
            refused += 1
            failed.wait(10)
    results.put(refused)


def test_sixteen_processes_open_it_only_on_three_failures_in_a_row(
    redis_url: str, redis_client: redis.Redis
) -> None:
    """One or two failures per round, always followed by successes: never three in a row."""
    name = f"rounds-{uuid.uuid4().hex[:6]}"
    start, failed = FORK.Barrier(16), FORK.Barrier(16)
    args = [(redis_url, name, me, start, failed) for me in range(16)]
    refused = run_processes(_round_in_child, args)
    assert sum(refused) == 0
    assert _breaker(redis_url, name).current_state == "closed"
    assert redis_client.hget(f"greenhouse:breaker:{name}", "gen") in (None, "0")


def test_a_decoding_client_is_refused(redis_url: str) -> None:
    with pytest.raises(ValueError, match="does not decode"):
        CircuitBreaker(
            "p6",
            redis.Redis.from_url(redis_url, decode_responses=True),
            fail_max=3,
            reset_timeout_s=60,
        )


def test_a_breaker_used_while_redis_is_down_counts_in_this_process() -> None:
    server = start_embedded_redis()
    server.stop()
    breaker, upstream = _breaker(server.url, "p7"), Upstream()
    _fail(breaker, upstream, 3)
    assert breaker.degraded and breaker.current_state == "open"
    with pytest.raises(BreakerOpen):
        breaker.call(upstream)
    assert upstream.calls == 3


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
            _fail(breaker, upstream, 3)  # counted in memory
        assert "Redis unreachable" in caplog.text
        with pytest.raises(BreakerOpen):  # it still opened: no failure went uncounted
            breaker.call(upstream)
        assert upstream.calls == 4

        server.start()  # Redis is back: after the retry interval the state is shared again
        eventually(lambda: not breaker.degraded, what="the retry interval to pass")
        breaker._refused_until = 0.0
        with caplog.at_level(logging.WARNING):
            upstream.failing = False
            assert breaker.call(upstream) == "ok"  # Redis had it closed, with one failure
        assert "Redis reachable again" in caplog.text
        assert not breaker.degraded
    finally:
        server.stop()

"""The rate limiter on the real Redis, in this process and in forked ones: the rate and the
daily count hold across processes, and a pause set by one stops the others."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
import redis

from harness.forked import FORK, run_processes
from harness.observe import eventually
from services.resilience.ratelimit import Plan, RateLimiter, Throttled

RATE, CALLS_EACH, WINDOW_S = 20.0, 20, 0.5


def _limiter(url: str, **plan: Any) -> RateLimiter:
    return RateLimiter(redis.Redis.from_url(url), {"p": Plan(**plan)})


def _redis_now(url: str) -> float:
    seconds, micros = redis.Redis.from_url(url).time()
    return seconds + micros / 1_000_000


def _admit_in_a_loop(url: str, start: Any, results: Any) -> None:
    limiter = _limiter(url, per_second=RATE)
    start.wait()
    admitted = []
    for _ in range(CALLS_EACH):
        limiter.acquire("p", wait_s=30)
        admitted.append(time.time())
    results.put(admitted)


def test_two_processes_together_keep_to_the_configured_rate(redis_url: str) -> None:
    start = FORK.Barrier(2)
    per_process = run_processes(_admit_in_a_loop, [(redis_url, start)] * 2)
    admitted = sorted(t for times in per_process for t in times)
    assert len(admitted) == 2 * CALLS_EACH  # nobody starved: each waited for its slot
    first = admitted[0]
    windows = [0] * (math.floor((admitted[-1] - first) / WINDOW_S) + 1)
    for when in admitted:
        windows[math.floor((when - first) / WINDOW_S)] += 1
    # RATE * WINDOW_S slots a window, plus one for the burst and one for a late wake-up; two
    # processes each at that rate on their own would put twice as many in each window.
    assert max(windows) <= RATE * WINDOW_S + 2, windows


def test_a_call_past_what_it_can_wait_is_refused_with_its_slot(redis_url: str) -> None:
    limiter = _limiter(redis_url, per_second=1, burst=2)
    limiter.acquire("p", wait_s=0)
    limiter.acquire("p", wait_s=0)  # the burst
    with pytest.raises(Throttled) as raised:
        limiter.acquire("p", wait_s=0.2)
    assert raised.value.reason == "rate" and 0.2 < raised.value.min_delay_s <= 1.0


def _attempt_until_admitted(url: str, ready: Any, go: Any, results: Any) -> None:
    """Try without waiting until admitted; each attempt's outcome and Redis's clock after it."""
    limiter, client = _limiter(url), redis.Redis.from_url(url)
    client.ping()  # connected before the pause starts: its first attempt comes at once
    ready.set()
    if not go.wait(30):
        return
    attempts = []
    while True:
        try:
            limiter.acquire("p", wait_s=0)
        except Throttled as exc:
            attempts.append((exc.reason, _clock(client)))
            time.sleep(0.01)  # no need to hammer Redis: the pause lasts seconds
            continue
        attempts.append(("admitted", _clock(client)))
        results.put(attempts)
        return


def _clock(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1_000_000


def test_a_pause_set_in_one_process_stops_another_until_it_ends(redis_url: str) -> None:
    ready, go, results = FORK.Event(), FORK.Event(), FORK.Queue()
    child = FORK.Process(target=_attempt_until_admitted, args=(redis_url, ready, go, results))
    child.start()
    assert ready.wait(30), "the child never started"
    paused_until = _limiter(redis_url).pause("p", 10.0)  # seconds: a loaded machine still tries
    go.set()
    attempts = results.get(timeout=30)
    child.join(30)
    assert child.exitcode == 0
    outcome, admitted_by = attempts[-1]
    assert len(attempts) > 1 and all(reason == "paused" for reason, _ in attempts[:-1])
    # Redis's clock read after the admission: had it come before the pause's end, this could
    # read earlier than the end.
    assert outcome == "admitted" and admitted_by >= paused_until


def test_a_caller_that_can_wait_sleeps_until_the_pause_ends(redis_url: str) -> None:
    limiter = _limiter(redis_url)
    paused_until = limiter.pause("p", 0.3)
    limiter.acquire("p", wait_s=5)
    assert _redis_now(redis_url) >= paused_until


def test_a_shorter_pause_never_cuts_a_longer_one(redis_url: str) -> None:
    limiter, client = _limiter(redis_url), redis.Redis.from_url(redis_url)
    long_until = limiter.pause("p", 60)
    assert limiter.pause("p", 1) == long_until
    assert int(client.get("greenhouse:throttle:p:paused_until") or 0) == round(long_until * 1000)
    assert 59_000 < client.pttl("greenhouse:throttle:p:paused_until") <= 60_000
    with pytest.raises(Throttled) as raised:
        limiter.acquire("p", wait_s=1)
    assert raised.value.reason == "paused" and 58 < raised.value.min_delay_s <= 60


def _spend_all(url: str, results: Any) -> None:
    limiter, admitted = _limiter(url, per_day=25), 0
    while True:
        try:
            limiter.acquire("p", wait_s=0)
        except Throttled as exc:
            results.put((admitted, exc.reason))
            return
        admitted += 1


def test_the_daily_limit_holds_across_processes(redis_url: str) -> None:
    outcomes = run_processes(_spend_all, [(redis_url,)] * 3)
    assert sum(admitted for admitted, _ in outcomes) == 25
    assert {reason for _, reason in outcomes} == {"daily"}
    assert _limiter(redis_url, per_day=25).usage("p").used == 25


def test_the_daily_count_starts_again_at_the_providers_reset_time(redis_url: str) -> None:
    seconds_into_day = _redis_now(redis_url) % 86400
    limiter = _limiter(redis_url, per_day=1, day_starts_s=seconds_into_day + 1.0)
    limiter.acquire("p", wait_s=0)
    with pytest.raises(Throttled) as raised:
        limiter.acquire("p", wait_s=0)
    assert raised.value.reason == "daily" and 0 < raised.value.min_delay_s <= 1.0
    reset_at = _redis_now(redis_url) + raised.value.min_delay_s
    eventually(lambda: _redis_now(redis_url) >= reset_at, what="the reset on Redis's clock")
    limiter.acquire("p", wait_s=0)
    assert limiter.usage("p").used == 1


def test_the_providers_count_replaces_ours_and_a_refund_gives_one_back(redis_url: str) -> None:
    limiter = _limiter(redis_url, per_day=100)
    for _ in range(3):
        limiter.acquire("p", wait_s=0)
    limiter.sync("p", remaining=40, limit=50)  # another app spent some: the provider knows
    usage = limiter.usage("p")
    assert (usage.used, usage.limit) == (10, 50)
    limiter.refund("p")
    assert limiter.usage("p").used == 9
    limiter.sync("p", remaining=0)
    with pytest.raises(Throttled):
        limiter.acquire("p", wait_s=0)


def test_without_a_known_limit_a_count_alone_is_not_kept(redis_url: str) -> None:
    limiter = _limiter(redis_url)
    limiter.sync("p", remaining=0)
    limiter.acquire("p", wait_s=0)
    assert limiter.usage("p").used == 1 and limiter.usage("p").limit == 0

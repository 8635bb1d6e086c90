"""The guards' own cost: breaker (closed and open) and lock, each against raw Redis commands."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable

import pybreaker
import redis

from bench.common import Row
from services.errors import TransientError
from services.resilience.breaker import BreakerOpen, CircuitBreaker
from services.resilience.lock import RenewingLock

ROUNDS = 5
CALLS_PER_ROUND = 1000
OPEN_CALLS = 3000
FAIL_MAX = 3


def run(client: redis.Redis, run_id: str) -> list[Row]:
    """Breaker and lock overheads, measured in this process against `client`'s Redis."""
    try:
        return (
            _closed_breaker(client, run_id) + _open_breaker(client, run_id) + _lock(client, run_id)
        )
    finally:
        for pattern in (f"*bench-*{run_id}*", f"*greenhouse:bench:{run_id}:*"):
            for key in client.scan_iter(match=pattern):
                client.delete(key)


def _noop() -> None:
    return None


def _fail() -> None:
    raise TransientError("benchmark: upstream unwell")


def per_call_us(contenders: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median µs per call; contenders alternate call by call, so all see the same noise."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(ROUNDS + 1):  # round 0 warms connections and code paths
        for _ in range(CALLS_PER_ROUND):
            for name, call in contenders.items():
                started = time.perf_counter()
                call()
                if round_:
                    samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1e6 for name, values in samples.items()}


def _closed_breaker(client: redis.Redis, run_id: str) -> list[Row]:
    ours = CircuitBreaker(f"bench-ours-{run_id}", client, fail_max=FAIL_MAX, reset_timeout_s=60)
    storage = pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, client, namespace=f"bench-stock-{run_id}"
    )
    stock = pybreaker.CircuitBreaker(fail_max=FAIL_MAX, reset_timeout=60, state_storage=storage)
    key = f"greenhouse:bench:{run_id}:get"
    client.set(key, "closed")
    us = per_call_us(
        {
            "ours": lambda: ours.call(_noop),
            "stock": lambda: stock.call(_noop),
            "get": lambda: client.get(key),
        }
    )
    ratio, stock_ratio = us["ours"] / us["get"], us["stock"] / us["get"]
    n = f"median of {ROUNDS * CALLS_PER_ROUND} calls, alternating"
    return [
        Row(f"breaker, closed: our CircuitBreaker.call(noop) (µs, {n})", f"{us['ours']:.0f}"),
        Row("breaker, closed: stock pybreaker + CircuitRedisStorage (µs)", f"{us['stock']:.0f}"),
        Row("breaker, closed: one Redis GET (µs), the floor", f"{us['get']:.0f}"),
        # Two compare-and-set round trips: admission, then the outcome (every success resets
        # the count; skipping that write when no failure was seen was a defect).
        Row("ratio ours / GET (two Lua calls)", f"{ratio:.2f}", "≤ 3", ratio <= 3),
        Row("ratio stock pybreaker / GET", f"{stock_ratio:.2f}"),
    ]


def _open_breaker(client: redis.Redis, run_id: str) -> list[Row]:
    breaker = CircuitBreaker(f"bench-open-{run_id}", client, fail_max=FAIL_MAX, reset_timeout_s=60)
    for _ in range(FAIL_MAX):
        with contextlib.suppress(TransientError):
            breaker.call(_fail)
    samples = []
    for _ in range(OPEN_CALLS):
        started = time.perf_counter()
        try:
            breaker.call(_noop)
        except BreakerOpen:
            samples.append(time.perf_counter() - started)
        else:
            raise RuntimeError("the breaker was expected to be open")
    cuts = statistics.quantiles(samples, n=100)
    p50, p99 = statistics.median(samples) * 1000, cuts[98] * 1000
    return [
        Row(f"breaker, open: fast-fail p50 (ms, {OPEN_CALLS} calls)", f"{p50:.3f}"),
        Row("breaker, open: fast-fail p99 (ms)", f"{p99:.3f}", "< 0.5", p99 < 0.5),
    ]


def _lock(client: redis.Redis, run_id: str) -> list[Row]:
    lock = RenewingLock(client, f"greenhouse:bench:{run_id}:lock", expire=30, auto_renewal=True)
    raw_key = f"greenhouse:bench:{run_id}:raw-lock"

    def ours() -> None:
        if not lock.acquire(blocking=False):
            raise RuntimeError("the benchmark lock is held elsewhere")
        lock.release()

    def raw() -> None:
        if not client.set(raw_key, run_id, nx=True, ex=30):
            raise RuntimeError("the raw benchmark key is held elsewhere")
        client.delete(raw_key)

    us = per_call_us({"ours": ours, "raw": raw})
    ratio = us["ours"] / us["raw"]
    n = f"median of {ROUNDS * CALLS_PER_ROUND} calls, alternating"
    return [
        Row(f"lock: RenewingLock acquire + release (µs, {n})", f"{us['ours']:.0f}"),
        Row("lock: raw SET NX EX + DEL (µs)", f"{us['raw']:.0f}"),
        Row("ratio RenewingLock / raw", f"{ratio:.2f}"),
    ]

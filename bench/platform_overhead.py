"""Issue 2: a no-op on Greenhouse's base task vs a bare Celery no-op, and Redis PING as floor."""

from __future__ import annotations

import statistics
import time

import redis
from celery.result import ResultSet

from bench.common import Row, worker
from tasks.app import app

TASKS_PER_ROUND = 1000
ROUNDS = 5
BENCH_QUEUE = "bench"


def _throughput(name: str) -> float:
    """Worker tasks per second for one round.

    The batch is queued on a queue the worker does not consume yet, then the worker is told
    to consume it: publishing (slow, and done by the caller) stays out of the figure.
    """
    results = ResultSet([app.send_task(name, queue=BENCH_QUEUE) for _ in range(TASKS_PER_ROUND)])
    started = time.perf_counter()
    app.control.add_consumer(BENCH_QUEUE, reply=True)
    results.join_native(timeout=120)
    elapsed = time.perf_counter() - started
    app.control.cancel_consumer(BENCH_QUEUE, reply=True)
    return TASKS_PER_ROUND / elapsed


def _ping_us(url: str, count: int = 2000) -> float:
    client = redis.Redis.from_url(url)
    client.ping()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - started)
    client.close()
    return statistics.median(samples) * 1e6


def run(redis_url: str) -> list[Row]:
    with worker("bench.noop_app", redis_url=redis_url, concurrency=2):
        _throughput("bench.bare_noop")  # warm both code paths before measuring
        _throughput("bench.greenhouse_noop")
        bare, ours = [], []
        for _ in range(ROUNDS):  # interleaved rounds: both see the same machine noise
            bare.append(_throughput("bench.bare_noop"))
            ours.append(_throughput("bench.greenhouse_noop"))
    bare_tps, our_tps = statistics.median(bare), statistics.median(ours)
    ratio = our_tps / bare_tps
    return [
        Row("bare Celery no-op (tasks/s, median of 5 rounds of 1000)", f"{bare_tps:,.0f}"),
        Row("Greenhouse base-task no-op (tasks/s, same run)", f"{our_tps:,.0f}"),
        Row("ratio Greenhouse / bare", f"{ratio:.3f}", "≥ 0.9", ratio >= 0.9),
        Row("Redis PING round trip (median µs), the floor", f"{_ping_us(redis_url):.0f}"),
    ]

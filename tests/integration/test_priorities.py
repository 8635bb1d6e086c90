"""Priorities with one busy worker on Redis and on RabbitMQ (real brokers, real worker)."""

from typing import Any

import redis

from harness.enqueue import enqueue
from harness.observe import eventually
from harness.workers import Workers
from tasks.app import app


def _record(label: str, priority: int | None = None) -> dict[str, Any]:
    return {
        "name": "tests.record",
        "args": [label],
        "kwargs": {"seconds": 0.01},
        "queue": "default",
        "priority": priority,
    }


def test_high_priority_tasks_overtake_a_backlog_of_low_ones(
    workers: Workers, redis_client: redis.Redis, broker_env: dict[str, str]
) -> None:
    # STARTED is stored only when configured: here it shows the worker is busy.
    workers.start(queues="default", concurrency=1, env={**broker_env, "TASK_TRACK_STARTED": "1"})
    (busy,) = enqueue([_record("busy") | {"kwargs": {"seconds": 4.0}}], broker_env)
    eventually(lambda: app.AsyncResult(busy).state == "STARTED", what="the worker to be busy")
    lows = [_record(f"low-{i}", priority=0) for i in range(200)]
    highs = [_record(f"high-{i}", priority=9) for i in range(20)]
    enqueue(lows + highs, broker_env)
    eventually(lambda: redis_client.llen("tests:order") == 221, timeout_s=120, what="all tasks")

    order = redis_client.lrange("tests:order", 0, -1)
    last_high = max(order.index(f"high-{i}") for i in range(20))
    lows_before_last_high = sum(1 for label in order[:last_high] if label.startswith("low-"))
    assert lows_before_last_high < 20, order[: last_high + 1]

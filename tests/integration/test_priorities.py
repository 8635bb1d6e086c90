"""Priorities on a real broker with one busy worker process (starts a real Celery worker)."""

import redis

from tasks.app import app
from tests.support.observe import eventually
from tests.support.workers import Workers


def test_high_priority_tasks_overtake_a_backlog_of_low_ones(
    workers: Workers, redis_client: redis.Redis
) -> None:
    workers.start(queues="default", concurrency=1)
    busy = app.send_task("tests.record", ["busy"], {"seconds": 1.0}, queue="default")
    eventually(lambda: busy.state == "STARTED", what="the worker to be busy")
    low = [
        app.send_task("tests.record", [f"low-{i}"], {"seconds": 0.01}, queue="default", priority=0)
        for i in range(200)
    ]
    high = [
        app.send_task("tests.record", [f"high-{i}"], {"seconds": 0.01}, queue="default", priority=9)
        for i in range(20)
    ]
    for result in [busy, *low, *high]:
        result.get(timeout=120)

    order = redis_client.lrange("tests:order", 0, -1)
    last_high = max(order.index(f"high-{i}") for i in range(20))
    lows_before_last_high = sum(1 for label in order[:last_high] if label.startswith("low-"))
    assert lows_before_last_high < 20, order[: last_high + 1]

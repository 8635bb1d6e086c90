"""The identification worker's threads pool, on a real worker process: soft time limits."""

import uuid

import redis

from harness.workers import Workers
from tasks.app import app

THREADS = {"WORKER_POOL": "threads"}


def test_a_task_hung_past_its_soft_time_limit_is_stopped_and_retried_on_threads(
    workers: Workers, redis_client: redis.Redis
) -> None:
    workers.start(queues="default", concurrency=32, env=THREADS)
    key = f"hang-{uuid.uuid4().hex}"
    # It would hang for ten minutes; the limit stops it after one second and it retries.
    result = app.send_task(
        "tests.hang_once", [key], {"seconds": 600}, queue="default", soft_time_limit=1
    )
    assert result.get(timeout=60) == 2
    assert redis_client.get(f"{key}:stopped") is not None


def test_the_other_threads_run_on_while_one_task_hangs(
    workers: Workers, redis_client: redis.Redis
) -> None:
    workers.start(queues="default", concurrency=32, env=THREADS)
    key = f"hang-{uuid.uuid4().hex}"
    hung = app.send_task("tests.hang_once", [key], {"seconds": 600}, queue="default")
    others = [app.send_task("tests.record", [f"{key}-{n}"], queue="default") for n in range(40)]
    assert [result.get(timeout=60) for result in others] == [f"{key}-{n}" for n in range(40)]
    assert not hung.ready()

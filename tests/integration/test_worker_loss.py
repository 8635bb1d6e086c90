"""SIGKILL in the middle of a task: a pool child (real processes; a whole worker: tests/faults)."""

import os
import signal
import uuid

import redis

from harness.enqueue import enqueue
from harness.observe import eventually
from harness.workers import Workers
from tasks.app import app


def _wait_for_first_run(client: redis.Redis, key: str) -> int:
    eventually(lambda: client.llen(f"{key}:pids"), what="the task to start")
    return int(client.lindex(f"{key}:pids", 0))


def test_a_killed_pool_child_runs_its_task_again(
    workers: Workers, redis_client: redis.Redis, broker_env: dict[str, str]
) -> None:
    workers.start(queues="default", concurrency=1, env=broker_env)
    key = f"slow-{uuid.uuid4().hex}"
    spec = {"name": "tests.slow_once", "args": [key], "kwargs": {"seconds": 120}}
    (task_id,) = enqueue([spec | {"queue": "default"}], broker_env)
    os.kill(_wait_for_first_run(redis_client, key), signal.SIGKILL)
    assert app.AsyncResult(task_id).get(timeout=60) == 2

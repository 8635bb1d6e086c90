"""SIGKILL in the middle of a task: a pool child, then a whole worker (real processes)."""

import os
import signal
import uuid

import redis

from tasks.app import app
from tests.support.observe import eventually
from tests.support.workers import Workers


def _wait_for_first_run(client: redis.Redis, key: str) -> int:
    eventually(lambda: client.llen(f"{key}:pids"), what="the task to start")
    return int(client.lindex(f"{key}:pids", 0))


def test_a_killed_pool_child_runs_its_task_again(
    workers: Workers, redis_client: redis.Redis
) -> None:
    workers.start(queues="default", concurrency=1)
    key = f"slow-{uuid.uuid4().hex}"
    result = app.send_task("tests.slow_once", [key], {"seconds": 120})
    os.kill(_wait_for_first_run(redis_client, key), signal.SIGKILL)
    assert result.get(timeout=60) == 2


def test_a_killed_worker_s_task_is_redelivered_after_the_visibility_timeout(
    workers: Workers, redis_client: redis.Redis
) -> None:
    short = {
        "VISIBILITY_TIMEOUT_S": "8",
        "TASK_TIME_LIMIT_S": "7",
        "TASK_SOFT_TIME_LIMIT_S": "6",
        "RETRY_MAX_DELAY_S": "2",
    }
    doomed = workers.start(queues="default", concurrency=1, env=short)
    key = f"slow-{uuid.uuid4().hex}"
    result = app.send_task("tests.slow_once", [key], {"seconds": 5})
    _wait_for_first_run(redis_client, key)
    os.kill(doomed.pid, signal.SIGKILL)  # the pool child dies with it (PDEATHSIG)
    # Nothing left in the queue: the message waits in kombu's unacked hash for its timeout.
    assert redis_client.hlen("unacked") == 1
    assert not any(redis_client.llen(k) for k in redis_client.scan_iter("default*"))

    workers.start(queues="default", concurrency=1, env=short)
    assert result.get(timeout=60) == 2  # restored from the unacked hash, run again
    eventually(lambda: redis_client.hlen("unacked") == 0, what="the redelivery to be acked")

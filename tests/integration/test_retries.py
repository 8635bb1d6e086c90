"""Retry schedule, dead letters and replay, through a real worker and the real CLI."""

import uuid

import pytest
import redis

from harness.observe import countdowns, dead_letters, greenhouse
from harness.workers import FAST, Workers
from tasks.app import app


def _priorities(client: redis.Redis, key: str) -> list[int]:
    """The caller priority each attempt of tests.flaky ran with."""
    return [int(priority) for priority in client.lrange(f"{key}:attempts", 0, -1)]


def test_transient_failures_retry_with_capped_backoff_and_keep_their_priority(
    workers: Workers, redis_client: redis.Redis
) -> None:
    worker = workers.start(queues="default")
    key = f"flaky-{uuid.uuid4().hex}"
    result = app.send_task("tests.flaky", [key], {"failures": 3}, queue="default", priority=7)
    assert result.get(timeout=60) == 4
    assert _priorities(redis_client, key) == [7, 7, 7, 7]
    base, cap = float(FAST["RETRY_BASE_DELAY_S"]), float(FAST["RETRY_MAX_DELAY_S"])
    chosen = countdowns(worker.log(), result.id)
    assert len(chosen) == 3
    # Full jitter: each within [0, base * 2**n], never above the cap (logged to 0.01 s).
    assert all(0 <= c <= min(cap, base * 2**n) + 0.005 for n, c in enumerate(chosen)), chosen


def test_a_minimum_delay_holds_back_every_retry(
    workers: Workers, redis_client: redis.Redis
) -> None:
    worker = workers.start(queues="default")
    key = f"flaky-{uuid.uuid4().hex}"
    result = app.send_task("tests.flaky", [key], {"failures": 2, "min_delay_s": 1.5})
    assert result.get(timeout=60) == 3
    chosen = countdowns(worker.log(), result.id)
    assert len(chosen) == 2 and all(c >= 1.5 for c in chosen), chosen


def test_retries_stop_at_the_maximum_and_the_failure_is_dead_lettered(
    workers: Workers, redis_client: redis.Redis, database_url: str
) -> None:
    workers.start(queues="default", env={"RETRY_MAX_RETRIES": "2"})
    key = f"flaky-{uuid.uuid4().hex}"
    result = app.send_task("tests.flaky", [key], {"failures": 100}, priority=2)
    with pytest.raises(Exception, match="flaky attempt 3"):
        result.get(timeout=60)
    assert len(_priorities(redis_client, key)) == 3
    (letter,) = dead_letters(database_url)
    assert (letter.task_id, letter.attempts, letter.error_type) == (result.id, 3, "TransientError")
    assert (letter.queue, letter.priority, letter.args) == ("default", 2, [key])


def test_a_permanent_error_fails_at_once_and_replay_runs_it_again(
    workers: Workers, redis_client: redis.Redis, database_url: str
) -> None:
    workers.start(queues="default")
    key = f"valid-{uuid.uuid4().hex}"
    result = app.send_task("tests.validate", [key, 41], queue="default", priority=6)
    with pytest.raises(Exception, match="value 41 rejected"):
        result.get(timeout=30)
    assert redis_client.get(f"{key}:calls") == "1"  # not retried
    (letter,) = dead_letters(database_url)
    assert (letter.error_type, letter.attempts, letter.priority) == ("ValidationError", 1, 6)

    listing = greenhouse("dead-letters", "list", database_url=database_url).stdout
    assert letter.arguments_digest[:12] in listing and key not in listing

    redis_client.set(key, "1")  # the operator fixed the cause
    greenhouse("dead-letters", "replay", str(letter.id), database_url=database_url)
    (replayed,) = dead_letters(database_url)
    assert replayed.replay_task_id
    assert app.AsyncResult(replayed.replay_task_id).get(timeout=30) == 41
    assert redis_client.get(f"{key}:calls") == "2"

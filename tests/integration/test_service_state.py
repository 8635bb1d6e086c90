"""Services' status and metrics on a real Redis (the session's, flushed per test)."""

import redis

from services.background.lifecycle import Policy, Retry, Status, after_failure
from services.background.state import Metrics, ServiceStore


def test_a_status_survives_the_round_trip_through_redis(redis_url: str) -> None:
    store = ServiceStore(redis.Redis.from_url(redis_url))
    assert store.status("warmer") == Status()
    failed = after_failure(
        Status(), "HTTP 503: 'quota'", Retry(12.5), Policy(interval_s=60), 1000.25
    )
    store.save("warmer", failed)
    assert store.status("warmer") == failed
    store.save("warmer", Status())  # a resume clears every field
    assert store.status("warmer") == Status()


def test_runs_are_counted_with_their_times_and_items(redis_url: str) -> None:
    store = ServiceStore(redis.Redis.from_url(redis_url))
    store.record_run("cleanup", ok=True, items=40, started_at=1000.0, duration_s=1.5)
    store.record_run("cleanup", ok=False, items=2, started_at=2000.0, duration_s=0.5)
    assert store.metrics("cleanup") == Metrics(
        runs=2,
        failures=1,
        items=42,
        last_run_at=2000.0,
        last_duration_s=0.5,
        last_success_at=1001.5,
    )

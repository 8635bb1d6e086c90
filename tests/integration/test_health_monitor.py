"""The health monitor run by a real worker (`services.run`) on the real Redis and SQLite: its
snapshot says what is alive and what waits where, and its history stays within its bound."""

from __future__ import annotations

import json
import re
from typing import Any, cast

import redis

from harness.observe import greenhouse
from harness.workers import Workers
from services.background.config import ConfigStore
from services.background.monitor import SNAPSHOT_KEY, read_snapshot
from services.background.registry import default_config
from services.background.state import ServiceStore
from services.health import HEALTH_HISTORY_KEY
from tasks.app import app

HEARTBEATS = {"WORKER_HEARTBEAT_INTERVAL_S": "0.5", "WORKER_HEARTBEAT_TTL_S": "3"}


def _run_monitor() -> dict[str, Any]:
    sent = app.send_task("services.run", kwargs={"name": "health-monitor"}, queue="maintenance")
    run: dict[str, Any] = sent.get(timeout=30)
    assert (run["ok"], run["items"]) == (True, 1), run
    return run


def _queue_unconsumed(priorities: dict[int, int]) -> None:
    """Messages on `statistics`, which no worker here consumes: {caller priority: count}."""
    for caller_priority, count in priorities.items():
        for _ in range(count):
            app.send_task(
                "statistics.forum_overview", kwargs={}, queue="statistics", priority=caller_priority
            )


def test_the_snapshot_shows_live_workers_queue_depths_per_priority_breakers_and_load(
    workers: Workers, redis_client: redis.Redis
) -> None:
    worker = workers.start(queues="maintenance", env=HEARTBEATS)
    _queue_unconsumed({9: 3, 0: 2})
    ConfigStore(redis_client).set(default_config("health-monitor"), {"cpu_sample_s": 0.1})
    _run_monitor()

    snapshot = read_snapshot(redis_client)
    assert snapshot is not None
    checks = snapshot["checks"]
    assert checks["redis"]["ok"] and checks["database"]["ok"] and checks["broker"]["ok"]
    assert checks["broker"]["details"]["queues"]["statistics"] == {
        "total": 5,
        "by_priority": {"0": 2, "9": 3},
        "consumers": None,
    }
    assert [n["pid"] for n in checks["workers"]["details"]["nodes"]] == [worker.pid]
    # Only maintenance has a worker, and no beat runs: the verdict says so.
    assert not snapshot["ok"] and {"workers", "scheduler"} <= set(snapshot["failing"])
    assert "no live worker for identification" in checks["workers"]["summary"]
    assert snapshot["breakers"] == {"plant_id": "closed", "plantnet": "closed"}
    assert snapshot["system"]["cpu_percent"] >= 0 and snapshot["system"]["disk_percent"] > 0
    assert 0 < redis_client.ttl(SNAPSHOT_KEY) <= 3 * 60  # three intervals
    assert ServiceStore(redis_client).health("health-monitor")["failing"] == snapshot["failing"]


def test_the_history_gains_one_sample_a_run_and_drops_the_oldest_a_bounded_number_at_a_time(
    workers: Workers, redis_client: redis.Redis, database_url: str
) -> None:
    workers.start(queues="maintenance", env=HEARTBEATS)
    old = {json.dumps({"at": float(at), "ok": True}): float(at) for at in range(20)}
    redis_client.zadd(HEALTH_HISTORY_KEY, old)  # a long history, from a larger bound before
    settings = {"history_samples": 3, "trim_batch": 5, "cpu_sample_s": 0.0}
    ConfigStore(redis_client).set(default_config("health-monitor"), settings)

    sizes = []
    for _ in range(5):
        _run_monitor()
        sizes.append(redis_client.zcard(HEALTH_HISTORY_KEY))
    assert sizes == [16, 12, 8, 4, 3]  # 5 at most a run, down to the bound, then kept there
    members = cast(list[str], redis_client.zrange(HEALTH_HISTORY_KEY, 0, -1))  # oldest first
    kept = [json.loads(raw) for raw in members]
    assert all(sample["at"] > 1e9 for sample in kept)  # the newest three, none of the old

    shown = json.loads(
        greenhouse("health", "--history", "10", "--json", database_url=database_url).stdout
    )
    assert shown == kept  # oldest first
    assert [sample["queued"]["maintenance"]["total"] for sample in shown] == [0, 0, 0]
    table = greenhouse("health", "--history", "2", database_url=database_url).stdout
    assert len(re.findall(r"│ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d │", table)) == 2  # a row each

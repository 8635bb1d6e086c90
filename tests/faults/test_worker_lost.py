"""A whole worker lost (SIGKILL; its pool children die with it) while it holds running, reserved
and countdown tasks: a second worker finishes every one within the lease, none runs twice at
once, and while the first worker lives nothing it holds moves (real workers, the session Redis)."""

import json
import os
import signal
import time
import uuid

import redis
from celery.result import AsyncResult

from harness import figures
from harness.observe import alive, child_pids, eventually
from harness.workers import FAST, Workers
from tasks.app import app

LEASE_S = float(FAST["DELIVERY_LEASE_S"])


def _runs(client: redis.Redis, key: str) -> list[dict]:
    return [json.loads(raw) for raw in client.lrange(key, 0, -1)]


def test_a_lost_worker_s_tasks_finish_on_another_within_the_lease_and_never_twice_at_once(
    workers: Workers, redis_client: redis.Redis
) -> None:
    doomed = workers.start(queues="default", concurrency=2)
    key = f"lost-{uuid.uuid4().hex[:8]}"
    keys: dict[str, str] = {}

    def hold(name: str, seconds: float, countdown: float | None = None) -> AsyncResult:
        result = app.send_task(
            "tests.hold_once", [name], {"seconds": seconds}, queue="default", countdown=countdown
        )
        keys[result.id] = name
        return result

    # Countdown messages first: each raises the worker's prefetch, so it takes all six.
    kinds = {
        "countdown": [hold(f"{key}:countdown:{i}", 0, countdown=25) for i in range(2)],
        "reserved": [hold(f"{key}:reserved:{i}", 0, countdown=3) for i in range(2)],  # due soon
        "running": [hold(f"{key}:running:{i}", 600) for i in range(2)],  # both processes busy
    }
    eventually(lambda: redis_client.hlen("unacked") == 6, what="the worker to hold all six")
    eventually(
        lambda: all(redis_client.llen(f"{key}:running:{i}") for i in range(2)),
        what="both long tasks to start",
    )
    doomed_pids = {doomed.pid, *child_pids(doomed.pid)}

    rescuer = workers.start(queues="default", concurrency=2)
    time.sleep(2 * LEASE_S + 2)  # two leases with a live holder and an idle second worker
    ran_on = {run["pid"] for k in keys.values() for run in _runs(redis_client, k)}
    assert ran_on <= doomed_pids, "a live worker's message was handed to another worker"
    assert redis_client.hlen("unacked") == 6

    os.kill(doomed.pid, signal.SIGKILL)
    killed_at = time.time()
    eventually(lambda: not any(alive(pid) for pid in doomed_pids), what="the pool to die too")

    for results in kinds.values():
        for result in results:
            result.get(timeout=LEASE_S + 30)
    runs = {task_id: _runs(redis_client, k) for task_id, k in keys.items()}
    rescued_at = {
        task_id: min(
            r["at"] for r in task_runs if r["event"] == "start" and r["pid"] not in doomed_pids
        )
        for task_id, task_runs in runs.items()
    }
    # Never twice at once: every run on the rescuer starts after the holder died.
    assert min(rescued_at.values()) >= killed_at
    done_after_s = max(r["at"] for task_runs in runs.values() for r in task_runs) - killed_at
    redelivered_after_s = (
        max(rescued_at[result.id] for kind in ("running", "reserved") for result in kinds[kind])
        - killed_at
    )
    assert done_after_s <= LEASE_S + 10
    assert [r.result for r in kinds["running"]] == [2, 2]  # the first run died with the worker
    assert [r.result for r in kinds["reserved"] + kinds["countdown"]] == [1, 1, 1, 1]
    assert rescuer.child.process.poll() is None
    figures.record(
        "worker lost",
        guarantee="a lost worker's running, reserved and countdown tasks finish on another worker "
        "within the lease + 10 s; a live worker's are never handed over; none runs twice at once",
        figure=f"6 held tasks (2 running, 2 reserved, 2 countdown): redelivered "
        f"{redelivered_after_s:.1f} s after SIGKILL, all done after {done_after_s:.1f} s "
        f"(lease {LEASE_S:g} s); none handed over in {2 * LEASE_S + 2:g} s alive; no overlap",
        lease_s=LEASE_S,
        redelivered_after_s=round(redelivered_after_s, 2),
        done_after_s=round(done_after_s, 2),
    )

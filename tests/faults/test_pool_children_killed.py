"""Pool children SIGKILLed at random while a worker runs 200 identifications: none is lost. Each
succeeds with one record per request, or, killed on every attempt (as happens to the last tasks
of the batch), ends as a replayable dead letter (a real worker, the session Redis, the sandbox)."""

import os
import random
import signal
import time

from harness import figures
from harness.batches import identification_records, identify, wait_until_settled
from harness.client import states
from harness.observe import child_pids, dead_letters
from harness.sandbox import Sandbox
from harness.workers import Workers
from services.settings import Settings
from tasks.app import app

ATTEMPTS = Settings().retry_max_retries + 1  # the worker's defaults
TASKS = 200


def test_pool_children_killed_at_random_lose_no_identification(
    workers: Workers, sandbox: Sandbox, database_url: str
) -> None:
    sandbox.configure(plant_id={"latency_ms": 200}, plantnet={"latency_ms": 200})
    # A killed holder's single-flight lock lapses in 5 s instead of 30, to keep the test short.
    worker = workers.start(
        queues="identification", concurrency=4, env=sandbox.env(LOCK_EXPIRE_S="5")
    )
    rng = random.Random(7)
    kills: list[int] = []
    killed_at, gap = 0, rng.randint(4, 10)  # settled identifications at the last kill, and next

    def kill_a_child_every_few_identifications() -> None:
        nonlocal killed_at, gap
        counts = states(results)
        settled = counts["SUCCESS"] + counts["FAILURE"]
        children = child_pids(worker.pid)
        if settled - killed_at >= gap and children:
            victim = rng.choice(children)
            os.kill(victim, signal.SIGKILL)
            kills.append(victim)
            killed_at, gap = settled, rng.randint(4, 10)

    results = identify(app, TASKS, tag=f"kills-{time.time_ns()}")
    counts, _ = wait_until_settled(
        results, timeout_s=240, tick=kill_a_child_every_few_identifications
    )
    succeeded, failed = counts["SUCCESS"], counts["FAILURE"]
    assert succeeded + failed == TASKS, dict(counts)  # settled, none REVOKED or lost
    assert len(kills) >= 10
    # A task killed on every one of its attempts is a poison to the pool: it stops as a dead
    # letter (replayable) after its retries, never loops. Nothing else may fail.
    letters = dead_letters(database_url, count=failed, timeout_s=10)
    assert len(letters) == failed
    assert all((d.error_type, d.attempts) == ("WorkerLostError", ATTEMPTS) for d in letters)
    assert identification_records(database_url) == (succeeded, succeeded)
    assert worker.child.process.poll() is None
    figures.record(
        "pool children killed",
        guarantee="pool children SIGKILLed mid-task: every task is retried; it succeeds with one "
        "record per request, or, killed on every attempt, becomes a dead letter; none lost",
        figure=f"{len(kills)} pool children SIGKILLed during {TASKS} identifications: "
        f"{succeeded} succeeded with {succeeded} records, {failed} dead-lettered after being "
        f"killed on all {ATTEMPTS} attempts, 0 lost",
        tasks=TASKS,
        kills=len(kills),
    )

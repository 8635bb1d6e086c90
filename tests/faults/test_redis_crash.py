"""Redis SIGKILLed under load and started again on its data (fsync always) 5 s later: every
identification in flight succeeds, once, none is reported REVOKED (real workers, private Redis)."""

import time

from harness import figures
from harness.batches import identification_records, identify, wait_until_settled
from harness.client import client_app, states
from harness.observe import dead_letters, eventually
from harness.sandbox import Sandbox
from harness.servers import FaultyRedis
from harness.workers import PRODUCTION_LEASE, Workers

TASKS = 200
LEASE_S = PRODUCTION_LEASE["DELIVERY_LEASE_S"]


def test_a_redis_crash_under_load_loses_nothing_and_revokes_nothing(
    faulty_redis: FaultyRedis, faulty_workers: Workers, sandbox: Sandbox, database_url: str
) -> None:
    sandbox.configure(plant_id={"latency_ms": 300}, plantnet={"latency_ms": 300})
    env = sandbox.env(**PRODUCTION_LEASE)
    for _ in range(2):
        faulty_workers.start(queues="identification", concurrency=4, env=env)
    client = client_app(faulty_redis.url)
    results = identify(client, TASKS, tag=f"crash-{time.time_ns()}")
    eventually(lambda: states(results)["SUCCESS"] >= TASKS // 4, what="a quarter to succeed")
    in_flight = TASKS - states(results)["SUCCESS"]

    faulty_redis.crash()
    time.sleep(5)
    faulty_redis.start()
    back_at = time.time()

    counts, settled_at = wait_until_settled(results, timeout_s=120)
    assert counts == {"SUCCESS": TASKS}, f"after Redis came back: {dict(counts)}"
    assert settled_at - back_at <= 60
    assert identification_records(database_url) == (TASKS, TASKS)  # one record per request
    assert dead_letters(database_url, count=0, timeout_s=0) == []
    for worker in faulty_workers.supervisor.children:
        assert worker.process.poll() is None, f"{worker.name} exited"
    figures.record(
        "redis crash",
        guarantee="Redis SIGKILLed and restarted under load: every task succeeds within 60 s of "
        "its return, once (one result, one record), none REVOKED, none dead-lettered",
        figure=f"{TASKS} identifications, {in_flight} not yet done at the crash: {TASKS} "
        f"succeeded, all within {settled_at - back_at:.1f} s of Redis's return; 0 lost, "
        f"0 REVOKED, {TASKS} records for {TASKS} requests (lease {LEASE_S} s)",
        tasks=TASKS,
        in_flight_at_crash=in_flight,
        settled_after_return_s=round(settled_at - back_at, 1),
    )

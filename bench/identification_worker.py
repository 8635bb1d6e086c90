"""Cache-hit identifications per second through a real worker, against a bare Celery no-op."""

from __future__ import annotations

import statistics
import time
from typing import Any

from celery.result import ResultSet

from bench.common import Row, worker
from bench.identification_sandbox import control, payload
from bench.identification_scale import compose_worker
from localkit.sandbox.server import SandboxServer
from tasks.app import app

IDENTIFY = "identification.identify"
BARE = "bench.bare_noop_ident"
TASKS_PER_ROUND = 500
ROUNDS = 3
BENCH_QUEUE = "bench-identification"


def run(redis_url: str, sandbox: SandboxServer, seed: int) -> list[Row]:
    """Throughput of N identical cached identifications vs N bare no-ops, interleaved."""
    kwargs = payload(seed)
    control(sandbox, "POST", "reset")  # no latency: only the warming call reaches it
    _command, pool, _replicas = compose_worker()  # the identification worker's pool
    env = {"PLANT_ID_URL": sandbox.plant_id_url, "PLANTNET_URL": sandbox.plantnet_url, **pool}
    concurrency = int(pool["WORKER_CONCURRENCY"])
    with worker("bench.identification_app", redis_url=redis_url, concurrency=concurrency, env=env):
        first = app.send_task(IDENTIFY, kwargs=kwargs, queue="default").get(timeout=60)
        if first["cached"]:
            raise RuntimeError("the warming identification was already cached")
        _throughput(IDENTIFY, kwargs)  # warm both code paths in every pool process
        _throughput(BARE, {})
        ours, bare = [], []
        for _ in range(ROUNDS):  # interleaved rounds: both see the same machine noise
            ours.append(_throughput(IDENTIFY, kwargs))
            bare.append(_throughput(BARE, {}))
    our_tps, bare_tps = statistics.median(ours), statistics.median(bare)
    ratio = our_tps / bare_tps
    n = f"median of {ROUNDS} rounds of {TASKS_PER_ROUND}"
    return [
        Row(f"cache-hit identifications through a worker (tasks/s, {n})", f"{our_tps:,.0f}"),
        Row("bare Celery no-op, same worker (tasks/s, same run)", f"{bare_tps:,.0f}"),
        Row("ratio cache-hit identification / bare no-op", f"{ratio:.3f}", "≥ 0.8", ratio >= 0.8),
    ]


def _throughput(name: str, kwargs: dict[str, Any]) -> float:
    """Worker tasks per second for one round, publishing kept out of the figure.

    The batch waits on a queue the worker does not consume yet; the clock starts when the
    worker is told to consume it.
    """
    sent = [app.send_task(name, kwargs=kwargs, queue=BENCH_QUEUE) for _ in range(TASKS_PER_ROUND)]
    results = ResultSet(sent)
    started = time.perf_counter()
    app.control.add_consumer(BENCH_QUEUE, reply=True, limit=1)  # not a second's wait for more
    values = results.join_native(timeout=120)
    elapsed = time.perf_counter() - started
    app.control.cancel_consumer(BENCH_QUEUE, reply=True, limit=1)
    if name == IDENTIFY and not all(value["cached"] for value in values):
        raise RuntimeError("a benchmarked identification missed the cache")
    return TASKS_PER_ROUND / elapsed

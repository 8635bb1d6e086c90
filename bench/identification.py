"""Identification: latency against its providers, a stampede, guard costs, cache-hit throughput."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import multiprocessing
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from math import nan
from pathlib import Path
from typing import Any

from bench import (
    identification_guards,
    identification_photos,
    identification_scale,
    identification_worker,
)
from bench.common import Row
from bench.identification_sandbox import (
    PLANT_ID_MS,
    PLANTNET_MS,
    calls,
    payload,
    running_sandbox,
    slow_providers,
)
from harness.postgres import reachable as postgres_reachable
from harness.postgres import scratch_database as scratch_postgres
from localkit.sandbox.server import SandboxServer
from services import db
from services.bootstrap import SANDBOX_KEY, Container, bootstrap
from services.identification.payload import IdentifyRequest, parse
from services.identification.plantid import PlantIdClient
from services.identification.plantnet import PlantNetClient
from services.identification.providers import http_client
from services.settings import Settings

LATENCY_ROUNDS = 10
STAMPEDE = 100
PROCESSES = 4
SLOW = f"sandbox latencies {PLANT_ID_MS}/{PLANTNET_MS} ms"


def run(redis_url: str) -> list[Row]:
    """Every identification figure, measured side by side in one run."""
    # Seeds never used before: nothing can come from a previous run's cache.
    seeds = itertools.count(random.randrange(2**40))
    run_id = uuid.uuid4().hex[:12]
    with running_sandbox() as sandbox, _container(sandbox, redis_url) as container:
        rows = _latency(container, sandbox, seeds)
        rows += _stampede(container, sandbox, seeds)
        rows += identification_guards.run(container.redis, run_id)
        rows += identification_worker.run(redis_url, sandbox, next(seeds))
    rows += identification_scale.run(redis_url, next(seeds))
    rows += identification_photos.run()
    return rows


@contextlib.contextmanager
def _container(sandbox: SandboxServer, redis_url: str) -> Iterator[Container]:
    """The real object graph, pointed at the sandbox and a fresh SQLite database."""
    workdir = Path(tempfile.mkdtemp(prefix="greenhouse-bench-ident-"))
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    db.upgrade(database_url)
    settings = dataclasses.replace(
        Settings.from_env(),
        redis_url=redis_url,
        plant_id_url=sandbox.plant_id_url,
        plantnet_url=sandbox.plantnet_url,
        database_url=database_url,
    )
    container = bootstrap(settings)
    try:
        yield container
    finally:
        container.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _latency(container: Container, sandbox: SandboxServer, seeds: Iterator[int]) -> list[Row]:
    """Our identify() vs the slowest provider alone vs both providers one after the other."""
    settings = container.settings
    http = http_client(
        connect_timeout_s=settings.provider_connect_timeout_s,
        read_timeout_s=settings.provider_read_timeout_s,
    )
    plant_id = PlantIdClient(http, base_url=settings.plant_id_url, api_key=SANDBOX_KEY)
    plantnet = PlantNetClient(
        http, base_url=settings.plantnet_url, api_key=SANDBOX_KEY, project=settings.plantnet_project
    )

    def later() -> float:
        return time.monotonic() + settings.provider_deadline_s

    contenders: dict[str, Callable[[IdentifyRequest], object]] = {
        "ours": lambda request: _identify_uncached(container, request),
        "slowest": lambda request: plantnet.identify(request, deadline=later()),
        "both": lambda request: (
            plant_id.identify(request, deadline=later()),
            plantnet.identify(request, deadline=later()),
        ),
    }
    slow_providers(sandbox)
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for round_ in range(LATENCY_ROUNDS + 1):  # round 0 warms connections, pools, SQLite
            for name, call in contenders.items():  # interleaved: all see the same noise
                request = parse(payload(next(seeds)))
                started = time.perf_counter()
                call(request)
                if round_:
                    samples[name].append((time.perf_counter() - started) * 1000)
    finally:
        http.close()
    ours, slowest, both = (statistics.median(samples[name]) for name in contenders)
    ratio = ours / slowest
    n = f"median of {LATENCY_ROUNDS}"
    return [
        Row(f"identify(), new image each call (ms, {n}, {SLOW})", f"{ours:.0f}"),
        Row(f"slowest provider alone, PlantNet (ms, {n})", f"{slowest:.0f}"),
        Row(f"both providers one after the other (ms, {n})", f"{both:.0f}"),
        Row("ratio identify() / slowest provider", f"{ratio:.3f}", "≤ 1.1", ratio <= 1.1),
    ]


def _identify_uncached(container: Container, request: IdentifyRequest) -> object:
    result = container.identification.identify(request, task_id=str(uuid.uuid4()))
    if result.cached or not result.complete:  # the figure would not be what it claims
        raise RuntimeError(f"expected a fresh, complete answer: {result.sources}")
    return result


def _stampede(container: Container, sandbox: SandboxServer, seeds: Iterator[int]) -> list[Row]:
    """100 identical requests at once from 4 processes (like prefork children), 25 threads each.

    `answer()` is the single flight alone: followers are woken when the leader caches the
    answer. `identify()` then writes a record per request, so its tail also shows how the
    record store takes 100 concurrent INSERT + COMMITs.
    """
    settings = container.settings
    rows = _stampede_on(settings, sandbox, next(seeds), "answer()", "single flight")
    stores = {"SQLite": settings.sqlalchemy_url}
    with contextlib.ExitStack() as stack:
        if postgres_reachable():
            stores["PostgreSQL"] = stack.enter_context(scratch_postgres())
        for store, url in stores.items():
            db.upgrade(url)
            config = dataclasses.replace(settings, database_url=url)
            rows += _stampede_on(config, sandbox, next(seeds), "identify()", f"records in {store}")
    return rows


def _stampede_on(
    settings: Settings, sandbox: SandboxServer, seed: int, call: str, label: str
) -> list[Row]:
    slow_providers(sandbox)
    # Fresh interpreters, like separate worker processes (forking this one, which has used
    # Celery's control API, leaves children that take ~30 s to exit).
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 6.0  # every process is up and wired by then
    args = (settings, seed, call, start_at, results)
    procs = [context.Process(target=_stampede_process, args=args) for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    outcomes = [item for _ in procs for item in results.get(timeout=120)]
    for proc in procs:
        proc.join(30)
    upstream = calls(sandbox)
    leaders = [done for cached, done in outcomes if not cached]
    behind = sorted((done - leaders[0]) * 1000 for cached, done in outcomes if cached)
    p50, worst = (statistics.median(behind), behind[-1]) if len(leaders) == 1 else (nan, nan)
    spread = behind[-1] - behind[0] if behind else nan
    prefix = f"stampede ({label}), {len(outcomes)} identical {call}"
    goal = call == "answer()"  # the single flight's figure; the record write is context
    return [
        Row(
            f"{prefix}: upstream calls Plant.id / PlantNet",
            f"{upstream['plant_id']} / {upstream['plantnet']}",
            "1 / 1",
            upstream == {"plant_id": 1, "plantnet": 1},
        ),
        Row(
            f"{prefix}: follower latency over the leader's, p50 / max (ms)",
            f"{p50:.1f} / {worst:.1f}",
            "max ≤ 50" if goal else "",
            worst <= 50 if goal else None,
        ),
        # Followers may finish before the leader, which still has to release the lock; this
        # is how far apart the first and the last follower finished.
        Row(f"{prefix}: spread of follower completions, first to last (ms)", f"{spread:.1f}"),
    ]


def _stampede_process(
    settings: Settings, seed: int, call: str, start_at: float, results: Any
) -> None:
    container = bootstrap(settings)
    service = container.identification
    request = parse(payload(seed))

    def one() -> tuple[bool, float]:
        time.sleep(max(0.0, start_at - time.time()))
        if call == "answer()":
            result = service.answer(request)
        else:
            result = service.identify(request, task_id=str(uuid.uuid4()))
        return result.cached, time.time()  # wall clock: comparable across processes

    per_process = STAMPEDE // PROCESSES
    with ThreadPoolExecutor(per_process) as pool:
        results.put([f.result() for f in [pool.submit(one) for _ in range(per_process)]])
    container.close()

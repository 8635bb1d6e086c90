"""Identification: latency against its providers, a stampede, guard costs, cache-hit throughput."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from math import nan
from pathlib import Path

from bench import identification_guards, identification_worker
from bench.common import Row
from bench.identification_sandbox import (
    PLANT_ID_MS,
    PLANTNET_MS,
    calls,
    payload,
    running_sandbox,
    slow_providers,
)
from services import db
from services.bootstrap import SANDBOX_KEY, Container, bootstrap
from services.db import session_factory
from services.identification.payload import IdentifyRequest, parse
from services.identification.plantid import PlantIdClient
from services.identification.plantnet import PlantNetClient
from services.identification.providers import http_client
from services.identification.records import IdentificationRecord, SqlIdentificationRecords
from services.identification.sandbox import SandboxServer
from services.settings import Settings

LATENCY_ROUNDS = 10
STAMPEDE = 100
SLOW = f"sandbox latencies {PLANT_ID_MS}/{PLANTNET_MS} ms"


def run(redis_url: str) -> list[Row]:
    """Every identification figure, measured side by side in one run."""
    # Seeds never used before: nothing can come from a previous run's cache.
    seeds = itertools.count(random.randrange(2**40))
    run_id = uuid.uuid4().hex[:12]
    with running_sandbox() as sandbox, _container(sandbox, redis_url) as container:
        rows = _latency(container, sandbox, seeds)
        rows += _stampede(container, sandbox, next(seeds))
        rows += identification_guards.run(container.redis, run_id)
        rows += identification_worker.run(redis_url, sandbox, next(seeds))
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
    container = bootstrap(settings, redis_url=redis_url)
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
    contenders: dict[str, Callable[[IdentifyRequest], object]] = {
        "ours": lambda request: _identify_uncached(container, request),
        "slowest": plantnet.identify,
        "both": lambda request: (plant_id.identify(request), plantnet.identify(request)),
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


def _stampede(container: Container, sandbox: SandboxServer, seed: int) -> list[Row]:
    """100 identical requests at once: one upstream call each, followers close behind."""
    request = parse(payload(seed))
    barrier = threading.Barrier(STAMPEDE)

    def one() -> tuple[bool, float]:
        barrier.wait(timeout=30)
        result = container.identification.identify(request, task_id=str(uuid.uuid4()))
        return result.cached, time.perf_counter()

    slow_providers(sandbox)
    with ThreadPoolExecutor(STAMPEDE) as pool:
        outcomes = [future.result() for future in [pool.submit(one) for _ in range(STAMPEDE)]]
    upstream = calls(sandbox)
    leaders = [done for cached, done in outcomes if not cached]
    behind = [(done - leaders[0]) * 1000 for cached, done in outcomes if cached and leaders]
    p50, worst = (statistics.median(behind), max(behind)) if len(leaders) == 1 else (nan, nan)
    once = upstream == {"plant_id": 1, "plantnet": 1}
    return [
        Row(
            f"stampede: {STAMPEDE} identical requests at once, upstream calls "
            f"(Plant.id / PlantNet; {len(leaders)} computed it)",
            f"{upstream['plant_id']} / {upstream['plantnet']}",
            "1 / 1",
            once,
        ),
        Row("stampede: follower completion after the leader's, p50 (ms)", f"{p50:.1f}"),
        Row(
            "stampede: follower completion after the leader's, max (ms)",
            f"{worst:.1f}",
            "≤ 50",
            worst <= 50,
        ),
        Row(
            "context: one identification record write alone (ms, median)",
            f"{_write_ms(container):.1f}",
        ),
    ]


def _write_ms(container: Container, count: int = 20) -> float:
    """What every identify() ends with, cached or not: a record INSERT and commit."""
    records = SqlIdentificationRecords(session_factory(container.engine))
    samples = []
    for _ in range(count):
        record = IdentificationRecord(
            idempotency_key=f"task:{uuid.uuid4()}",
            request_id=None,
            image_sha256="0" * 64,
            top_species=None,
            is_plant=True,
            plant_id_status="ok",
            plantnet_status="ok",
            cached=True,
            latency_ms=0.0,
            created_at=datetime.now(UTC),
        )
        started = time.perf_counter()
        records.add(record)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)

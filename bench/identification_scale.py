"""Unique identifications per second on one host, both providers answering in 500 ms.

The worker runs exactly as docker-compose runs the identification worker (its command and its
pool settings, read from docker-compose.yml), against the API sandbox in a process of its own.
The old default (prefork, one process per CPU) is measured beside it in the same run.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import redis
import yaml

from bench.common import ROOT, Row
from harness.servers import free_port
from localkit.samples import sample_png
from localkit.supervisor import Child, Supervisor
from services import db
from tasks.app import app

LATENCY_MS = 500
THREADS_TASKS = 1500
PREFORK_TASKS = 60


def run(redis_url: str, seed: int) -> list[Row]:
    command, pool_env, replicas = compose_worker()
    workdir = Path(tempfile.mkdtemp(prefix="greenhouse-bench-scale-"))
    with Supervisor(log_dir=workdir) as supervisor, _sandbox(supervisor) as sandbox_url:
        env = _env(redis_url, sandbox_url, workdir)
        threads = _measure(
            supervisor, command, {**env, **pool_env}, THREADS_TASKS, seed, redis_url,
            replicas=replicas,
        )  # fmt: skip
        prefork = _measure(
            supervisor,
            command,
            {**env, "WORKER_POOL": "prefork"},
            PREFORK_TASKS,
            seed + THREADS_TASKS,
            redis_url,
            replicas=1,
        )
    pool = f"{replicas} x {pool_env['WORKER_POOL']} -c {pool_env['WORKER_CONCURRENCY']}"
    cpus = os.cpu_count() or 1
    return [
        Row(
            f"unique identifications/s, docker-compose's identification workers ({pool}), "
            f"{THREADS_TASKS} tasks, both providers at {LATENCY_MS} ms, {cpus} CPUs",
            f"{threads.rate:.1f}",
            "≥ 60",
            threads.rate >= 60,
        ),
        Row(
            "their RSS together, peak (MB)", f"{threads.rss_mb:.0f}", "≤ 400", threads.rss_mb <= 400
        ),
        Row("their CPU per identification (ms)", f"{threads.cpu_ms:.1f}"),
        Row(
            f"ceiling that CPU implies on {cpus} CPUs, with nothing else running "
            "(identifications/s)",
            f"{1000 * cpus / threads.cpu_ms:.0f}",
        ),
        Row(
            f"one worker on prefork, one process per CPU, as before ({PREFORK_TASKS} tasks)",
            f"{prefork.rate:.1f}",
        ),
        Row("ratio threads / prefork", f"{threads.rate / prefork.rate:.1f}"),
    ]


class Figures:
    """What one worker did with one batch."""

    def __init__(self, rate: float, rss_mb: float, cpu_ms: float) -> None:
        self.rate, self.rss_mb, self.cpu_ms = rate, rss_mb, cpu_ms


def compose_worker() -> tuple[list[str], dict[str, str], int]:
    """docker-compose's identification worker: its command, its pool settings, its replicas."""
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][
        "worker-identification"
    ]
    environment = service["environment"]
    pool_env = {key: str(environment[key]) for key in ("WORKER_POOL", "WORKER_CONCURRENCY")}
    command = [sys.executable, "-m", *service["command"]]  # `celery …` from this venv
    return command, pool_env, int(service.get("deploy", {}).get("replicas", 1))


@contextlib.contextmanager
def _sandbox(supervisor: Supervisor) -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "tasks.cli", "sandbox", "--port", str(port)]
    supervisor.start("sandbox", argv, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{url}/__sandbox/calls", timeout=1)
            break
        time.sleep(0.1)
    latency = {"latency_ms": LATENCY_MS}
    httpx.post(f"{url}/__sandbox/config", json={"plant_id": latency, "plantnet": latency})
    yield url


def _env(redis_url: str, sandbox_url: str, workdir: Path) -> dict[str, str]:
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    db.upgrade(database_url)
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "PLANT_ID_URL": f"{sandbox_url}/plant-id/v3",
        "PLANTNET_URL": f"{sandbox_url}/plantnet/v2",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def _measure(
    supervisor: Supervisor,
    command: list[str],
    env: Mapping[str, str],
    count: int,
    seed: int,
    redis_url: str,
    *,
    replicas: int,
) -> Figures:
    """Queue `count` distinct identifications, then start the workers and watch them drain."""
    sent = [
        app.send_task(
            "identification.identify",
            kwargs={"images": [base64.b64encode(sample_png(seed + n)).decode()]},
            queue="identification",
        ).id
        for n in range(count)
    ]
    children = [
        supervisor.start(f"worker-{env['WORKER_POOL']}-{n}", _named(command, n), env=env)
        for n in range(replicas)
    ]
    client = redis.Redis.from_url(redis_url)
    keys = [f"celery-task-meta-{task_id}" for task_id in sent]
    rss, cpu_at_first, done_at_first = 0, None, 0
    while (done := sum(value is not None for value in client.mget(keys))) < count:
        supervisor.check()
        tree = _tree(children)
        rss = max(rss, sum(process.memory_info().rss for process in tree))
        if cpu_at_first is None and done:
            cpu_at_first, done_at_first = _cpu(tree), done
        time.sleep(0.2)
    cpu_s = _cpu(_tree(children)) - (cpu_at_first or 0)
    for child in children:
        supervisor.stop(child)
    metas = [json.loads(value or "null") for value in client.mget(keys)]
    failed = [meta for meta in metas if meta["status"] != "SUCCESS"]
    if failed:
        raise RuntimeError(f"{len(failed)} identifications failed: {failed[0]}")
    finished = sorted(datetime.fromisoformat(meta["date_done"]).timestamp() for meta in metas)
    rate = (count - 1) / (finished[-1] - finished[0])
    return Figures(rate, rss / 1e6, cpu_s * 1000 / max(1, count - done_at_first))


def _tree(children: list[Child]) -> list[psutil.Process]:
    processes = [psutil.Process(child.process.pid) for child in children]
    return [*processes, *(p for process in processes for p in process.children(recursive=True))]


def _named(command: list[str], n: int) -> list[str]:
    """The command with a node name of its own (replicas on one host share its name)."""
    at = command.index("-n") + 1
    return [*command[:at], command[at].replace("@", f"-{n}@", 1), *command[at + 1 :]]


def _cpu(tree: list[psutil.Process]) -> float:
    return math.fsum(sum(process.cpu_times()[:2]) for process in tree)

"""`greenhouse health` run as operators and Docker run it (a subprocess), against real worker
and beat processes on real Redis: exit 0 when everything is alive, 1 when a part is gone."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from harness import postgres
from harness.observe import eventually
from harness.servers import FaultyRedis
from harness.workers import Worker, Workers
from localkit.supervisor import Child
from services import db

# Heartbeats every half second that lapse after three; beat's lock (and its tick key) after four.
HEARTBEATS = {"WORKER_HEARTBEAT_INTERVAL_S": "0.5", "WORKER_HEARTBEAT_TTL_S": "3"}
FAST_BEAT = {"BEAT_LOCK_TIMEOUT_S": "4", "BEAT_MAX_LOOP_INTERVAL_S": "0.5"}
TERMINATE = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"


def health(*args: str, redis_url: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The installed `greenhouse health` with this Redis and database."""
    env = os.environ | {"REDIS_URL": redis_url, "DATABASE_URL": database_url, "COLUMNS": "200"}
    env.pop("BROKER_URL", None)
    command = [str(Path(sys.executable).with_name("greenhouse")), "health", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def report(*args: str, redis_url: str, database_url: str) -> dict[str, Any]:
    """`greenhouse health --json` (whatever its exit code), parsed."""
    done = health("--json", *args, redis_url=redis_url, database_url=database_url)
    assert done.returncode in (0, 1), done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == (0 if parsed["ok"] else 1)
    return parsed


def start_system(workers: Workers) -> tuple[Worker, Worker, Child]:
    """The reference deployment in miniature: an identification worker, a background worker
    (statistics, maintenance, default) and beat."""
    identification = workers.start(queues="identification", env=HEARTBEATS)
    background = workers.start(queues="statistics,maintenance,default", env=HEARTBEATS)
    return identification, background, workers.start_beat(env=FAST_BEAT)


def node(worker: Worker) -> str:
    """The worker's node name as Celery expands it (`%h` is this host's name)."""
    return worker.nodename.replace("%h", socket.gethostname())


def healthy(redis_url: str, database_url: str) -> bool:
    return health(redis_url=redis_url, database_url=database_url).returncode == 0


def test_health_exits_0_when_redis_the_database_a_worker_per_queue_and_beat_are_alive(
    workers: Workers, redis_url: str, database_url: str
) -> None:
    identification, background, _beat = start_system(workers)
    eventually(lambda: healthy(redis_url, database_url), timeout_s=60, what="a healthy system")

    checks = report(redis_url=redis_url, database_url=database_url)["checks"]
    assert all(check["ok"] for check in checks.values())
    assert set(checks) == {"redis", "database", "broker", "workers", "scheduler", "pipeline"}
    assert checks["workers"]["details"]["queues"] == {
        "identification": [node(identification)],
        "statistics": [node(background)],
        "maintenance": [node(background)],
        "default": [node(background)],
    }
    written = next(n for n in checks["workers"]["details"]["nodes"] if n["pid"] == background.pid)
    assert written["queues"] == ["default", "maintenance", "statistics"]
    assert (written["pool"], written["concurrency"]) == ("prefork", 1)


def test_a_stopped_worker_leaves_at_once_and_a_killed_one_when_its_heartbeat_lapses(
    workers: Workers, redis_url: str, database_url: str, redis_client: redis.Redis
) -> None:
    long_ttl = HEARTBEATS | {"WORKER_HEARTBEAT_TTL_S": "600"}  # only a clean stop removes it
    stopped = workers.start(queues="identification", env=long_ttl)
    killed = workers.start(queues="statistics,maintenance,default", env=HEARTBEATS)
    nodes = [node(stopped), node(killed)]
    args = ["--only", "workers", "--node", nodes[0], "--node", nodes[1]]
    eventually(lambda: report(*args, redis_url=redis_url, database_url=database_url)["ok"])

    stopped.child.process.send_signal(signal.SIGTERM)  # a warm shutdown
    eventually(lambda: not redis_client.exists(f"greenhouse:worker:{nodes[0]}"), timeout_s=20)
    workers_check = report(*args, redis_url=redis_url, database_url=database_url)
    assert workers_check["checks"]["workers"]["details"]["missing_nodes"] == [nodes[0]]

    os.killpg(killed.pid, signal.SIGKILL)  # no shutdown at all: the key lapses by its TTL
    key = f"greenhouse:worker:{nodes[1]}"
    assert redis_client.ttl(key) > 0  # still there just after the kill...
    eventually(lambda: not redis_client.exists(key), timeout_s=20, what="the TTL to lapse")
    everything = report(redis_url=redis_url, database_url=database_url)
    assert "workers" in everything["failing"]
    assert everything["checks"]["workers"]["details"]["nodes"] == []


def test_health_exits_1_when_every_worker_is_stopped_and_0_again_when_one_is_back(
    workers: Workers, redis_url: str, database_url: str
) -> None:
    *started, _beat = start_system(workers)
    eventually(lambda: healthy(redis_url, database_url), timeout_s=60, what="a healthy system")
    for worker in started:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.child.process.wait()

    eventually(lambda: not healthy(redis_url, database_url), what="the heartbeats to lapse")
    failing = report(redis_url=redis_url, database_url=database_url)["failing"]
    assert "workers" in failing and "redis" not in failing and "scheduler" not in failing

    workers.start(env=HEARTBEATS)  # one worker for every queue
    eventually(lambda: healthy(redis_url, database_url), what="the new worker's heartbeat")


def test_health_exits_1_when_the_scheduler_stops(
    workers: Workers, redis_url: str, database_url: str
) -> None:
    *_workers, beat = start_system(workers)
    eventually(lambda: healthy(redis_url, database_url), timeout_s=60, what="a healthy system")
    beat.process.send_signal(signal.SIGTERM)
    beat.process.wait(timeout=30)

    eventually(lambda: not healthy(redis_url, database_url), what="the tick key to lapse")
    assert report(redis_url=redis_url, database_url=database_url)["failing"] == ["scheduler"]
    # A worker's own check does not depend on beat.
    worker_only = report("--only", "workers", redis_url=redis_url, database_url=database_url)
    assert worker_only["ok"]


def test_health_exits_1_within_seconds_when_redis_is_stopped_or_frozen(
    faulty_redis: FaultyRedis, faulty_workers: Workers, database_url: str
) -> None:
    url = faulty_redis.url
    start_system(faulty_workers)
    eventually(lambda: healthy(url, database_url), timeout_s=60, what="a healthy system")

    faulty_redis.freeze()  # accepts connections, answers nothing: only timeouts tell
    started = time.monotonic()
    frozen = report(redis_url=url, database_url=database_url)
    took_s = time.monotonic() - started
    assert {"redis", "broker", "workers", "scheduler"} <= set(frozen["failing"])
    assert frozen["checks"]["database"]["ok"]
    print(f"`greenhouse health` with Redis frozen answered in {took_s:.1f}s")

    faulty_redis.thaw()
    eventually(lambda: healthy(url, database_url), what="the system to recover")
    faulty_redis.crash()
    crashed = health(redis_url=url, database_url=database_url)
    assert crashed.returncode == 1
    assert "unhealthy: redis, " in crashed.stdout
    faulty_redis.start()  # so the workers stop cleanly


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A scratch database on the machine's PostgreSQL, with the schema applied."""
    if not postgres.reachable():
        pytest.skip("no PostgreSQL on this machine (the SQLite case is tested below)")
    with postgres.scratch_database() as url:
        db.upgrade(url)
        yield url


def test_health_exits_1_while_the_database_refuses_connections(
    redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    pool = Workers(redis_url=redis_url, database_url=postgres_url, log_dir=tmp_path / "log")
    try:
        start_system(pool)
        eventually(lambda: healthy(redis_url, postgres_url), timeout_s=60, what="all alive")
        name = sa.make_url(postgres_url).database
        _allow_connections(name, allow=False)
        refused = report(redis_url=redis_url, database_url=postgres_url)
        assert refused["failing"] == ["database"]
        assert "not currently accepting connections" in refused["checks"]["database"]["summary"]
        _allow_connections(name, allow=True)
        eventually(lambda: healthy(redis_url, postgres_url), what="the database back")
    finally:
        pool.stop_all()


def test_health_exits_1_when_the_sqlite_database_is_missing(
    workers: Workers, redis_url: str, database_url: str
) -> None:
    start_system(workers)
    eventually(lambda: healthy(redis_url, database_url), timeout_s=60, what="a healthy system")
    missing = database_url.replace("greenhouse.db", "moved-away.db")
    gone = report(redis_url=redis_url, database_url=missing)
    assert gone["failing"] == ["database"]
    assert "no SQLite database" in gone["checks"]["database"]["summary"]


def _allow_connections(database: str | None, *, allow: bool) -> None:
    """Let connections in, or refuse new ones and end the open ones (the workers' too)."""
    admin = sa.create_engine(postgres.ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            flag = "true" if allow else "false"
            connection.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {flag}'))
            if not allow:
                open_ones = (
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                )
                connection.execute(sa.text(open_ones), {"n": database})
    finally:
        admin.dispose()

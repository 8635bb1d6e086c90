"""pytest fixtures for tests on real parts (registered by tests/conftest.py; each starts its
part only when a test asks for it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from harness import postgres
from harness.sandbox import Sandbox
from harness.servers import FaultyRedis, rabbitmq_vhost
from harness.workers import Workers
from localkit.sandbox.server import SandboxServer
from services import db


@pytest.fixture
def redis_url() -> str:
    """A clean database on the session's real Redis server."""
    url = os.environ["REDIS_URL"]  # set by the conftest of every folder of real-part tests
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite file with the schema applied (shared with worker processes)."""
    url = f"sqlite:///{tmp_path / 'greenhouse.db'}"
    db.upgrade(url)
    return url


@pytest.fixture
def workers(redis_url: str, database_url: str, tmp_path: Path) -> Iterator[Workers]:
    """Start real worker processes with `workers.start(...)`; all stop after the test."""
    pool = Workers(redis_url=redis_url, database_url=database_url, log_dir=tmp_path / "log")
    yield pool
    pool.stop_all()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The Plant.id / PlantNet imitation, served from this process on a free port."""
    server = SandboxServer().start()
    yield Sandbox(server)
    server.stop()


@pytest.fixture
def faulty_redis() -> Iterator[FaultyRedis]:
    """A private Redis (fsync always) on a free port; never the machine's shared one."""
    server = FaultyRedis().start()
    yield server
    server.stop()


@pytest.fixture
def faulty_workers(
    faulty_redis: FaultyRedis, database_url: str, tmp_path: Path
) -> Iterator[Workers]:
    """Real workers on the private Redis (broker, results, caches, locks); stopped afterwards."""
    pool = Workers(redis_url=faulty_redis.url, database_url=database_url, log_dir=tmp_path / "log")
    yield pool
    pool.stop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of each kind (PostgreSQL: a scratch database, dropped after; skipped
    where none is reachable)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'any.db'}"
        db.upgrade(url)
        yield url
        return
    if not postgres.reachable():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    with postgres.scratch_database() as url:
        db.upgrade(url)
        yield url


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_env(request: pytest.FixtureRequest, redis_url: str) -> Iterator[dict[str, str]]:
    """Environment selecting the broker (the test's Redis, or a private vhost of the machine's
    RabbitMQ); results stay on the test's Redis either way. Skipped, saying why, without one."""
    if request.param == "redis":
        yield {}
        return
    with rabbitmq_vhost() as amqp_url:
        if amqp_url is None:
            pytest.skip("no RabbitMQ on 127.0.0.1:5672 (rabbitmqctl needed for a private vhost)")
        yield {"BROKER_URL": amqp_url, "RESULT_BACKEND": redis_url}

"""Fault-suite fixtures: a private Redis that may be crashed or frozen, workers bound to it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import FaultyRedis
from tests.support.workers import Workers

# The shipped lease, so the figures are those production gets.
PRODUCTION_LEASE = {
    "DELIVERY_LEASE_S": "30",
    "LEASE_RENEW_INTERVAL_S": "5",
    "REDIS_SOCKET_TIMEOUT_S": "10",
}


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

"""Session-wide real servers, chosen before anything imports the Celery app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from services import db
from services.identification.sandbox import SandboxServer
from tests.support import figures
from tests.support.sandbox import Sandbox
from tests.support.servers import session_redis
from tests.support.workers import Workers

_embedded = None


def pytest_configure(config: pytest.Config) -> None:
    global _embedded
    url, _embedded = session_redis()
    # celeryconfig reads REDIS_URL when tasks.app is first imported, in this process too.
    os.environ["REDIS_URL"] = url
    os.environ.setdefault("VAR_DIR", str(Path(config.rootpath) / "var" / "test"))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _embedded is not None:
        _embedded.stop()


@pytest.fixture
def redis_url() -> str:
    """A clean database on a real Redis server."""
    url = os.environ["REDIS_URL"]
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures the fault suite measured in this run."""
    measured = figures.load()
    shown = [name for name in figures.RECORDED if name in measured]
    if shown:
        terminalreporter.section("fault figures")
        for name in shown:
            terminalreporter.write_line(f"{name}: {measured[name]['figure']}")

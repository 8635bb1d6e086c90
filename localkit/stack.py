"""`greenhouse up`: Redis (embedded unless configured), schema, worker, beat and Flower."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from localkit.redis_server import EmbeddedRedis, answers
from localkit.supervisor import Supervisor
from services import db
from services.settings import Settings
from tasks.flower import CONF as FLOWER_CONF

log = logging.getLogger(__name__)

# Identification waits on HTTP: threads. Statistics and maintenance compute: prefork.
WORKERS = (
    ("identification", "identification", "threads"),
    ("background", "statistics,maintenance,default", "prefork"),
)


@dataclass
class Stack:
    """What `up` started: where Redis is and the supervisor holding the processes."""

    settings: Settings
    redis_url: str
    supervisor: Supervisor

    def celery(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "tasks", *args]

    sandbox_url: str | None = None

    def env(self) -> dict[str, str]:
        # Children see exactly the Redis, database and provider URLs this process resolved.
        env = {**os.environ, "REDIS_URL": self.redis_url, "DATABASE_URL": self.database_url}
        if self.sandbox_url and not self.settings.plant_id_api_key:
            env["PLANT_ID_URL"] = f"{self.sandbox_url}/plant-id/v3"
        if self.sandbox_url and not self.settings.plantnet_api_key:
            env["PLANTNET_URL"] = f"{self.sandbox_url}/plantnet/v2"
        return env

    @property
    def database_url(self) -> str:
        return self.settings.sqlalchemy_url


@contextlib.contextmanager
def redis_for(settings: Settings) -> Iterator[str]:
    """The configured Redis, or an embedded one that lives as long as this block."""
    if settings.redis_url:
        yield settings.redis_url
        return
    server = EmbeddedRedis(data_dir=settings.var_dir, port=settings.embedded_redis_port)
    if answers(server.url):
        log.info("reusing the embedded Redis already running on %s", server.url)
        yield server.url
        return
    with server:
        yield server.url


@contextlib.contextmanager
def running_stack(settings: Settings, *, flower: bool = True) -> Iterator[Stack]:
    """Start everything, yield once a worker answers, stop everything on the way out."""
    with redis_for(settings) as redis_url, Supervisor(log_dir=settings.var_dir / "log") as sup:
        stack = Stack(settings, redis_url, sup)
        db.upgrade(stack.database_url)
        if settings.sandbox_mode:
            start_sandbox(stack)
        level = settings.log_level
        for name, queues, pool in WORKERS:  # as docker-compose runs them
            sup.start(
                f"worker-{name}",
                stack.celery("worker", "-Q", queues, "-n", f"{name}@%h", "--loglevel", level),
                env={**stack.env(), "WORKER_POOL": pool},
            )
        sup.start("beat", stack.celery("beat", "--loglevel", level), env=stack.env())
        if flower:
            # Its configuration file (tasks/flower.py) reads the settings; credentials stay in
            # the environment, out of argv (and so out of `ps`).
            sup.start("flower", stack.celery("flower", f"--conf={FLOWER_CONF}"), env=stack.env())
        wait_for_worker(stack)
        yield stack


def start_sandbox(stack: Stack) -> None:
    """The API sandbox, for every provider without a key."""
    port = stack.settings.sandbox_port
    argv = [sys.executable, "-m", "tasks.cli", "sandbox", "--port", str(port)]
    stack.supervisor.start("sandbox", argv, env=dict(os.environ))
    stack.sandbox_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _answers(f"{stack.sandbox_url}/__sandbox/calls"):
        stack.supervisor.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the API sandbox did not start on port {port}")
        time.sleep(0.1)
    log.warning("sandbox mode: providers without an API key are answered by %s", stack.sandbox_url)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for_worker(stack: Stack, *, timeout_s: float = 90.0) -> None:
    """Block until every worker answers a control ping (or a child dies)."""
    from tasks.app import app

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stack.supervisor.check()
        if len(app.control.ping(timeout=0.5)) >= len(WORKERS):
            return
    raise TimeoutError(
        f"not every worker answered within {timeout_s:g}s; see {stack.settings.var_dir}/log"
    )

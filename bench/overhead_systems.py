"""The systems the platform-cost benchmark runs side by side: how each worker and caller start."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.common import ROOT
from services import db

CPUS = os.cpu_count() or 1
DRAMATIQ_THREADS = 8  # Dramatiq's own default per process
CELERY_READY = " ready."
KOMBU_UNACKED = "unacked"  # kombu's hash of delivered, unacknowledged messages (its default key)


@dataclass(frozen=True)
class System:
    """One system on one Redis: its worker, its caller, and when it has finished a batch."""

    label: str
    worker_argv: list[str]
    caller_argv: list[str]
    env: dict[str, str]
    # A hash the last acknowledgement of a batch empties: the batch is done when it is empty.
    drained_key: str
    ready_marker: str = CELERY_READY
    ready_count: int = 1


Factory = Callable[[str, Path], System]  # (its own Redis URL, a scratch folder) -> System


def _python(*argv: str) -> list[str]:
    return [sys.executable, "-m", *argv]


def _celery_env(redis_url: str) -> dict[str, str]:
    # Celery's own variables: the stock apps carry no configuration of ours.
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
    }


def _stock_celery_worker(app: str, node: str, *options: str) -> list[str]:
    # INFO, as docker-compose runs Greenhouse's workers: every Celery logs the same lines.
    command = ["celery", "-A", app, "worker", "-c", str(CPUS), "-n", f"{node}@%h", *options]
    return _python(*command, "--loglevel", "INFO")


def bare_celery(redis_url: str, _workdir: Path) -> System:
    """Celery's defaults: prefork, acks early, prefetch 4, no task events; results in Redis."""
    app = "bench.bare_celery_app:bare"
    return System(
        label=f"bare default Celery (prefork -c {CPUS}, acks early, prefetch 4, events off)",
        worker_argv=_stock_celery_worker(app, "bare"),
        caller_argv=_python("bench.overhead_caller", "celery", app, "bench.bare_noop"),
        env=_celery_env(redis_url),
        drained_key=KOMBU_UNACKED,
    )


def safe_celery(redis_url: str, _workdir: Path) -> System:
    """Celery with only the safety settings Greenhouse keeps, and task events on (-E)."""
    app = "bench.bare_celery_app:safe"
    return System(
        label="Celery + safety settings only (acks late, prefetch 1, 10 priority steps, -E)",
        worker_argv=_stock_celery_worker(app, "safe", "-E"),
        caller_argv=_python("bench.overhead_caller", "celery", app, "bench.bare_noop"),
        env=_celery_env(redis_url),
        drained_key=KOMBU_UNACKED,
    )


def greenhouse(redis_url: str, workdir: Path) -> System:
    """The tasks app (celeryconfig), started as docker-compose starts its background worker."""
    command, compose_env = compose_worker("worker-background")
    app_at = command.index("-A") + 1
    command[app_at] = "bench.noop_app"  # the tasks app plus a no-op on GreenhouseTask
    database_url = f"sqlite:///{workdir / 'greenhouse.db'}"
    db.upgrade(database_url)
    env = {
        **os.environ,
        **compose_env,
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
    }
    return System(
        label="Greenhouse (tasks app and celeryconfig, no-op on GreenhouseTask; worker as "
        "docker-compose's worker-background: prefork, one process per CPU)",
        worker_argv=_python(*command),
        caller_argv=_python(
            "bench.overhead_caller", "celery", "bench.noop_app:app", "bench.greenhouse_noop"
        ),
        env=env,
        drained_key=KOMBU_UNACKED,
    )


def dramatiq(redis_url: str, _workdir: Path) -> System:
    """Dramatiq's defaults on its Redis broker; it stores no result."""
    argv = ["dramatiq", "bench.dramatiq_app", "-p", str(CPUS), "-t", str(DRAMATIQ_THREADS)]
    return System(
        label=f"Dramatiq (Redis broker, `{' '.join(argv)}`; no result stored, none read)",
        worker_argv=_python(*argv),
        caller_argv=_python("bench.overhead_caller", "dramatiq", "bench.dramatiq_app:noop"),
        env={**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(ROOT)},
        drained_key="dramatiq:default.msgs",  # message bodies, each deleted by its ack
        ready_marker="Worker process is ready for action.",
        ready_count=CPUS,
    )


def compose_worker(service: str) -> tuple[list[str], dict[str, str]]:
    """A docker-compose service's command and environment (REDIS_URL etc. get overridden)."""
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][service]
    environment = {key: str(value) for key, value in spec.get("environment", {}).items()}
    return list(spec["command"]), environment


SYSTEMS: dict[str, Factory] = {
    "bare": bare_celery,
    "safe": safe_celery,
    "greenhouse": greenhouse,
    "dramatiq": dramatiq,
}

"""`greenhouse status` on one screen: queues, workers, breakers, services and dead letters, each
part read on its own so one unreachable part still leaves the others shown."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from services.background.overview import overview
from services.delivery.deadletters import DeadLetterStore
from services.delivery.depths import broker_depths
from services.health import WorkerHeartbeats
from services.resilience import breaker_ops

FIXES = {
    "queues": "is the broker up? check BROKER_URL / REDIS_URL",
    "workers": "is Redis up? check REDIS_URL",
    "breakers": "is Redis up? check REDIS_URL",
    "services": "is Redis up? check REDIS_URL",
    "dead_letters": "is the database up? check DATABASE_URL (greenhouse db upgrade)",
}


@dataclass(kw_only=True)
class Status:
    """Each part as JSON-ready data, or None with a line in `problems` saying what to check."""

    queues: dict[str, Any] | None = None
    workers: list[dict[str, Any]] | None = None
    breakers: list[dict[str, Any]] | None = None
    services: list[dict[str, Any]] | None = None
    dead_letters: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def gather(
    *,
    client: redis.Redis,
    broker_url: str,
    dead_letters: Callable[[], DeadLetterStore],
    queues: Sequence[str],
    timeout_s: float = 2.0,
) -> Status:
    """Read every part; a part that fails is named in `problems` with its fix."""
    status = Status()
    parts: dict[str, Callable[[], Any]] = {
        "queues": lambda: _queues(broker_url, queues, timeout_s),
        "workers": lambda: _workers(client),
        "breakers": lambda: [
            view.to_dict() for view in breaker_ops.read(client, breaker_ops.PROVIDERS)
        ],
        "services": lambda: [_service(view.to_dict()) for view in overview(client)],
        "dead_letters": lambda: dead_letters().summary(),
    }
    for name, read in parts.items():
        try:
            setattr(status, name, read())
        except Exception as exc:
            reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            status.problems.append(f"{name}: {reason} ({FIXES[name]})")
    return status


def _queues(broker_url: str, queues: Sequence[str], timeout_s: float) -> dict[str, Any]:
    found = broker_depths(broker_url, queues, timeout_s=timeout_s)
    return {
        "queues": {depth.queue: depth.to_dict() for depth in found.queues},
        "unacked": found.unacked,
    }


def _workers(client: redis.Redis) -> list[dict[str, Any]]:
    now = time.time()
    return [
        {
            "nodename": info.nodename,
            "queues": info.queues,
            "pool": info.pool,
            "concurrency": info.concurrency,
            "host": info.host,
            "seen_s_ago": round(max(0.0, now - info.at), 1),
        }
        for info in WorkerHeartbeats(client).live()
    ]


def _service(view: dict[str, Any]) -> dict[str, Any]:
    keep = ("name", "enabled", "interval_s", "state", "failures_in_a_row", "last_error")
    return {key: view.get(key) for key in (*keep, "runs", "last_run_at")}

"""Liveness keys with a TTL: a component is healthy while its key exists."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

import redis

WORKER_PREFIX = "greenhouse:worker"
HEALTH_HISTORY_KEY = "greenhouse:health:history"  # a sorted set of samples scored by epoch seconds
_UNKNOWN_WORKER: dict[str, Any] = {
    "nodename": "?",
    "queues": [],
    "pool": "?",
    "concurrency": 0,
    "pid": 0,
    "host": "?",
    "at": 0.0,
    "ttl_s": 0,
}


class Heartbeat:
    """`beat(name)` marks a component alive for `ttl_s`; `age_s(name)` says how long ago."""

    def __init__(self, client: redis.Redis, *, prefix: str = "greenhouse:heartbeat") -> None:
        self._redis = client
        self._prefix = prefix

    def beat(self, name: str, *, ttl_s: int) -> None:
        self._redis.set(f"{self._prefix}:{name}", repr(time.time()), ex=ttl_s)

    def age_s(self, name: str) -> float | None:
        raw = self._redis.get(f"{self._prefix}:{name}")
        return None if raw is None else max(0.0, time.time() - float(raw))


@dataclass(frozen=True, kw_only=True)
class WorkerInfo:
    """What a live worker says of itself in its heartbeat key."""

    nodename: str
    queues: list[str]
    pool: str
    concurrency: int
    pid: int
    host: str
    at: float  # epoch seconds of the write (the writer's clock)
    ttl_s: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerInfo:
        """Tolerates fields a newer or older release added or dropped (a rolling upgrade)."""
        known = {f.name for f in fields(cls)}
        given = {key: value for key, value in data.items() if key in known}
        return cls(**(_UNKNOWN_WORKER | given))


class WorkerHeartbeats:
    """Each worker's key `greenhouse:worker:<nodename>` (JSON WorkerInfo) with a TTL: a worker
    is alive while its key exists; one that stops cleanly removes it at once."""

    def __init__(self, client: redis.Redis, *, prefix: str = WORKER_PREFIX) -> None:
        self._redis = client
        self._prefix = prefix

    def key(self, nodename: str) -> str:
        return f"{self._prefix}:{nodename}"

    def write(self, info: WorkerInfo) -> None:
        self._redis.set(self.key(info.nodename), json.dumps(info.to_dict()), ex=info.ttl_s)

    def remove(self, nodename: str) -> None:
        self._redis.delete(self.key(nodename))

    def live(self) -> list[WorkerInfo]:
        """Every worker whose key has not lapsed, by node name."""
        keys = sorted(self._redis.scan_iter(match=f"{self._prefix}:*", count=500))
        values = self._redis.mget(keys) if keys else []
        # A key may lapse between SCAN and MGET: that worker is gone.
        return [WorkerInfo.from_dict(json.loads(raw)) for raw in values if raw is not None]

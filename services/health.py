"""Liveness keys with a TTL: a component is healthy while its key exists."""

from __future__ import annotations

import time

import redis


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

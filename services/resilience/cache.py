"""JSON values in Redis under versioned keys; a cache that is down is a miss, never an error."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

log = logging.getLogger(__name__)


class JsonCache:
    """`greenhouse:v<version>:<namespace>:<key>` → JSON; bumping `version` orphans old keys."""

    def __init__(self, client: redis.Redis, *, namespace: str, version: int, ttl_s: int) -> None:
        self._redis = client
        self.prefix = f"greenhouse:v{version}:{namespace}"
        self.ttl_s = ttl_s

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def get(self, name: str) -> Any | None:
        try:
            raw = self._redis.get(self.key(name))
        except redis.RedisError as exc:
            log.warning("cache %s unreachable on GET (%s): treated as a miss", self.prefix, exc)
            return None
        return None if raw is None else json.loads(raw)

    def set(self, name: str, value: Any, *, ttl_s: int | None = None) -> None:
        try:
            self._redis.set(self.key(name), json.dumps(value), ex=ttl_s or self.ttl_s)
        except redis.RedisError as exc:
            log.warning("cache %s unreachable on SET (%s): value not cached", self.prefix, exc)

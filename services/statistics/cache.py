"""The statistics cache: Redis with single-flight recompute, a local fallback, hit counters."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from services.resilience.cache import FENCE_SUFFIX, JsonCache, LocalCache
from services.resilience.lock import SingleFlight

log = logging.getLogger(__name__)


@dataclass
class Counters:
    """Cache hits and misses seen by this process."""

    hits: int = 0
    misses: int = 0
    fallbacks: int = 0


class StatsCache:
    """get_or_compute over Redis; while Redis is unreachable, a bounded in-process cache."""

    def __init__(self, cache: JsonCache, flight: SingleFlight, *, fallback: LocalCache) -> None:
        self._cache = cache
        self._flight = flight
        self._fallback = fallback
        self._lock = threading.Lock()
        self._warned_at = 0.0
        self.counters = Counters()

    def get_or_compute(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """(value, cached); a cold key under load is computed once, across processes."""
        try:
            value, cached = self._flight.get_or_compute(name, compute, ttl_s=lambda _: ttl_s)
        except redis.RedisError as exc:
            value, cached = self._from_fallback(name, ttl_s, compute, exc)
        with self._lock:
            if cached:
                self.counters.hits += 1
            else:
                self.counters.misses += 1
        return value, cached

    def _from_fallback(
        self, name: str, ttl_s: int, compute: Callable[[], Any], exc: Exception
    ) -> tuple[Any, bool]:
        if time.monotonic() - self._warned_at > 60:  # once a minute, not once a request
            self._warned_at = time.monotonic()
            log.warning(
                "statistics cache: Redis unreachable (%s); answering from the "
                "database through the in-process cache",
                type(exc).__name__,
            )
        with self._lock:
            self.counters.fallbacks += 1
        cached = self._fallback.get(name)
        if cached is not None:
            return cached, True
        value = compute()
        self._fallback.set(name, value, ttl_s=ttl_s)
        return value, False

    def invalidate(self, patterns: list[str]) -> list[str]:
        """Drop every key matching `patterns` (SCAN + UNLINK); the names dropped."""
        dropped: list[str] = []
        for pattern in patterns:
            keys = list(self._cache.scan(pattern))
            self._cache.drop(keys)  # values and their fencing tokens
            dropped += [key for key in keys if not key.endswith(FENCE_SUFFIX)]
            self._fallback.drop_matching(pattern.rstrip("*"))
        return sorted(set(dropped))

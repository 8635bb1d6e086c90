"""The statistics cache: Redis with single-flight recompute, a local fallback, hit counters, and
a log of which statistics are read (what the warmer keeps warm)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from services import metrics
from services.resilience.cache import FENCE_SUFFIX, JsonCache, LocalCache
from services.resilience.lock import SingleFlight

log = logging.getLogger(__name__)
NOTE_EVERY_S = 5.0  # a process notes a name read at most this often: a hot read costs no write
NOTED_MAX = 10_000  # names a process remembers noting; beyond, the stale ones are forgotten
READ_LOG_KEEP_S = 86_400  # a read log nobody reads any more (an old cache version) lapses


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
        # Beside the values, versioned with them, and outside `<prefix>:*`, which invalidate scans.
        self.reads = ReadLog(cache.client, f"{cache.prefix}-reads")

    def get_or_compute(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """(value, cached); a cold key under load is computed once, across processes."""
        try:
            value, cached = self._flight.get_or_compute(name, compute, ttl_s=lambda _: ttl_s)
        except redis.RedisError as exc:
            value, cached = self._from_fallback(name, ttl_s, compute, exc)
        else:
            self.reads.note(name)
        with self._lock:
            if cached:
                self.counters.hits += 1
            else:
                self.counters.misses += 1
        metrics.cache_request("statistics", "hit" if cached else "miss")
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
        metrics.cache_request("statistics", "error")
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

    def expiring(self, *, read_within_s: float, lead_s: float, limit: int) -> list[str]:
        """Names read within `read_within_s` whose values end within `lead_s` or are gone,
        soonest first, at most `limit`."""
        names = self.reads.since(read_within_s)
        with self._cache.client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.pttl(self._cache.key(name))
            remaining_ms = pipe.execute()
        # PTTL: -2 when gone, -1 without expiry (never written so by this cache: left alone).
        due = [(ms, name) for ms, name in zip(remaining_ms, names, strict=True) if ms != -1]
        return [name for ms, name in sorted(due) if ms < lead_s * 1000][:limit]

    def refresh(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> bool:
        """Recompute `name` in place under single flight; False if it is being computed now."""
        return self._flight.refresh(name, compute, ttl_s=lambda _: ttl_s)


class ReadLog:
    """When each name was last read: a sorted set scored by epoch seconds. Each process writes a
    name at most every NOTE_EVERY_S, so a hot read costs a dict lookup, not a round trip."""

    def __init__(
        self, client: redis.Redis, key: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self.key = key
        self._clock = clock
        self._noted: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, name: str) -> None:
        """Record a read of `name` now (best effort: a lost note costs a later miss at most)."""
        now = self._clock()
        with self._lock:
            if now - self._noted.get(name, -NOTE_EVERY_S) < NOTE_EVERY_S:
                return
            if len(self._noted) >= NOTED_MAX:
                self._noted = {n: t for n, t in self._noted.items() if now - t < NOTE_EVERY_S}
            self._noted[name] = now
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(self.key, {name: now})
                pipe.expire(self.key, READ_LOG_KEEP_S)
                pipe.execute()
        except redis.RedisError as exc:
            log.debug("could not note a read of %s (%s)", name, exc)

    def since(self, window_s: float) -> list[str]:
        """Names read within the last `window_s`; older ones leave the log."""
        cutoff = self._clock() - window_s
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(self.key, "-inf", f"({cutoff}")
            pipe.zrangebyscore(self.key, cutoff, "+inf")
            _, names = pipe.execute()
        return [n.decode() if isinstance(n, bytes) else n for n in names]

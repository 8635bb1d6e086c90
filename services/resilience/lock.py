"""Single-flight across processes: one computes, the others wait for its cached result.

Built on python-redis-lock, with its pitfalls closed: renewal no longer dies silently on a Redis
error (it logs and retries) and takes one thread per process, not one per lock; a lock that
expired before release no longer throws the finished work away (NotAcquired at release is
logged); `reset_all` is never called (it would break live holders); and waiters never block in
Redis longer than `poll_s`, far below the client's socket timeout, nor past the holder's expiry
(a frozen holder is replaced the moment its lock lapses).
A holder that lost its lock and returns late cannot overwrite the newer answer: each write carries
a fencing token from the lock's Redis clock, and the cache keeps the newest. A cache write that
fails keeps the answer it was given. When the lock cannot be had within `wait_s`, `LockTimeout`
(transient) is raised: the task retries later and will most likely find the result cached;
calling the upstream anyway would defeat the point of the lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
import redis_lock

from services import metrics
from services.errors import TransientError
from services.resilience.cache import JsonCache
from services.resilience.renewer import RENEWER

log = logging.getLogger(__name__)


# KEYS: waiters counter, the lock's signal list. ARGV: signal expiry (ms).
_WAKE_ALL = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
for _ = 1, n do redis.call('LPUSH', KEYS[2], 1) end
if n > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return n
"""


class LockTimeout(TransientError):
    """The same work is in progress elsewhere and did not finish within the wait."""


class RenewingLock(redis_lock.Lock):
    """redis_lock.Lock renewed by the process's one renewer thread (services/resilience/
    renewer.py), surviving Redis errors, and whose release keeps the work."""

    def _start_lock_renewer(self) -> None:
        RENEWER.hold(self, interval_s=self._lock_renewal_interval)

    def release(self) -> None:
        # redis_lock stops renewal only when it started a thread of its own.
        RENEWER.drop(self)
        super().release()

    def release_keeping_work(self) -> None:
        """Release; a lock lost meanwhile is logged, not raised."""
        try:
            self.release()
        except redis_lock.NotAcquired:
            log.warning("lock %s had expired before release; the result is kept", self._name)
        except redis.RedisError as exc:
            log.warning("could not release lock %s (%s); it expires by itself", self._name, exc)


class SingleFlight:
    """Cache check → lock → cache check → compute → cache → release, across processes."""

    def __init__(
        self,
        client: redis.Redis,
        cache: JsonCache,
        *,
        expire_s: int = 30,
        wait_s: float = 15.0,
        poll_s: float = 1.0,
    ) -> None:
        socket_timeout = client.get_connection_kwargs().get("socket_timeout")
        if socket_timeout is not None and socket_timeout <= poll_s + 1:
            raise ValueError(f"Redis socket_timeout {socket_timeout}s must exceed {poll_s + 1}s")
        # Contention is normal here; redis_lock logs every contended try as a warning.
        logging.getLogger("redis_lock").setLevel(logging.ERROR)
        self._redis = client
        self._wake = client.register_script(_WAKE_ALL)
        self._cache = cache
        self._expire_s = expire_s
        self._wait_s = wait_s
        self._poll_s = poll_s

    def get_or_compute(
        self, key: str, compute: Callable[[], Any], *, ttl_s: Callable[[Any], int] | None = None
    ) -> tuple[Any, bool]:
        """(value, True) from the cache, or (value, False) computed here exactly once.

        `ttl_s(value)` picks the cache lifetime per value (default: the cache's own).
        """
        cached = self._cache.get(key)
        if cached is not None:
            return cached, True
        lock, waiters = self._lock(key)
        started = time.monotonic()
        waited = False
        try:
            while not lock.acquire(blocking=False):
                remaining = started + self._wait_s - time.monotonic()
                if remaining <= 0:
                    raise LockTimeout(
                        f"{key} is being computed elsewhere; not done in {self._wait_s}s"
                    )
                waited = True
                cached = self._wait_for_value(key, lock, waiters, min(self._poll_s, remaining))
                if cached is not None:
                    return cached, True
        finally:  # the wait only, not the computing that may follow it
            if waited:
                metrics.lock_waited(time.monotonic() - started)
        return self._lead(key, lock, waiters, compute, ttl_s)

    def refresh(
        self, key: str, compute: Callable[[], Any], *, ttl_s: Callable[[Any], int] | None = None
    ) -> bool:
        """Recompute `key` and replace its cached value in place (readers keep the old one until
        then); False, computing nothing, while another process holds the key's lock: its answer
        is on the way. The write carries a fencing token like any other, so it never replaces a
        newer answer; a cache write that fails raises (the caller counts a failed refresh)."""
        lock, waiters = self._lock(key)
        if not lock.acquire(blocking=False):
            return False
        try:
            token = self._fencing_token()
            value = compute()
            self._cache.set_fenced(key, value, token=token, ttl_s=ttl_s(value) if ttl_s else None)
            self._wake_all(lock, waiters)  # a reader that missed meanwhile waits on this lock
            return True
        finally:
            lock.release_keeping_work()

    def _lock(self, key: str) -> tuple[RenewingLock, str]:
        """The lock over computing `key`, and the counter of those waiting on it."""
        lock = RenewingLock(
            self._redis, f"greenhouse:singleflight:{key}", expire=self._expire_s, auto_renewal=True
        )
        return lock, f"greenhouse:singleflight:{key}:waiters"

    def _lead(
        self,
        key: str,
        lock: RenewingLock,
        waiters: str,
        compute: Callable[[], Any],
        ttl_s: Callable[[Any], int] | None,
    ) -> tuple[Any, bool]:
        try:
            token = self._fencing_token()
            cached = self._cache.get(key)
            if cached is not None:
                return cached, True
            value = compute()
            value = self._store(key, value, token, ttl_s(value) if ttl_s else None)
            self._wake_all(lock, waiters)  # before the release: followers need no lock
            return value, False
        finally:
            lock.release_keeping_work()

    def _fencing_token(self) -> int:
        """Microseconds on the lock's Redis clock: whoever acquires later holds a larger one."""
        seconds, microseconds = self._redis.time()
        return int(seconds) * 1_000_000 + int(microseconds)

    def _store(self, key: str, value: Any, token: int, ttl_s: int | None) -> Any:
        """Cache `value` unless a newer holder already did (then its answer is returned)."""
        try:
            written, standing = self._cache.set_fenced(key, value, token=token, ttl_s=ttl_s)
        except redis.RedisError as exc:  # the answer is good; only the cache missed it
            log.warning("could not cache %s (%s); answering without caching", key, exc)
            return value
        if written or standing is None:
            return value
        log.warning("lost the lock on %s while computing; a newer answer stands", key)
        return standing

    def _wake_all(self, lock: RenewingLock, waiters: str) -> None:
        """One signal per registered waiter, in one round trip (the unlock script wakes one)."""
        try:
            self._wake(keys=[waiters, lock._signal], args=[lock._signal_expire])
        except redis.RedisError as exc:  # they still find the answer at their next poll
            log.warning("could not wake the waiters of %s (%s)", lock._name, exc)

    def _wait_for_value(
        self, key: str, lock: RenewingLock, waiters: str, timeout_s: float
    ) -> Any | None:
        """Block until the holder releases, its lock expires or `timeout_s`; read the cache."""
        with self._redis.pipeline() as pipe:
            pipe.incr(waiters)
            pipe.expire(waiters, self._expire_s)
            pipe.pttl(lock._name)
            _, _, lock_ttl_ms = pipe.execute()
        try:
            if lock_ttl_ms > 0:  # a holder frozen past its expiry is replaced at once
                self._redis.blpop([lock._signal], timeout=min(timeout_s, lock_ttl_ms / 1000))
        finally:
            self._redis.decr(waiters)
        return self._cache.get(key)  # through the cache's own Redis (CACHE_REDIS_URL)

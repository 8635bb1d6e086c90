"""Beat's scheduler: RedBeat (schedule and single-scheduler lock in Redis) that outlives outages
and never sends a tick twice.

RedBeat ends beat on the first Redis error of a tick: its lock is extended through the plain
client (its `retry_period` wraps only the client), and a lock it could not take at start-up is
None at the first tick. Here a tick that cannot reach Redis schedules nothing and tries again
with backoff; beat schedules only while it holds the lock, and wins it back after losing it.
The lock alone has holes (it can lapse while its holder is paused between loading an entry and
sending it), so each tick of each entry is also claimed once in Redis (tasks/beat_entries.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from celery.exceptions import ImproperlyConfigured
from redbeat import RedBeatScheduler
from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT, get_redis

from services.background import registry
from services.health import Heartbeat
from tasks import beat_entries
from tasks.startup import start_local_redis_if_unconfigured

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 10.0


class GreenhouseScheduler(RedBeatScheduler):
    """RedBeat that waits out Redis outages and a lock held by another beat."""

    _outage_since: float | None = None
    _failures = 0
    _standing_by = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        start_local_redis_if_unconfigured()  # RedBeat reads its schedule from Redis right away
        super().__init__(*args, **kwargs)
        if self.lock_timeout < 2 * self.max_interval:  # renewed once a loop: one miss is fine
            raise ImproperlyConfigured(
                f"BEAT_LOCK_TIMEOUT_S ({self.lock_timeout}) must be at least twice "
                f"BEAT_MAX_LOOP_INTERVAL_S ({self.max_interval}): the lock would lapse "
                "between renewals"
            )

    def setup_schedule(self) -> None:
        """beat_schedule.py's entries, with the service settings operators stored."""
        client = get_redis(self.app)
        configs = [registry.live_config(client, name) for name in registry.names()]
        conf = self.app.redbeat_conf
        conf.schedule = beat_entries.with_overrides(conf.schedule, configs)
        super().setup_schedule()

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kw: Any) -> Any:
        """Send `entry` unless another beat already sent this tick (then only move it on)."""
        if not beat_entries.claim(get_redis(self.app), entry):
            log.info("beat: %s was already sent for this tick; not sending it again", entry.name)
            self.reserve(entry)
            return None
        return super().apply_async(beat_entries.stamped(entry), producer, advance, **kw)

    def tick(self, min: Any = min, **kwargs: Any) -> float:
        try:
            if not self._holds_lock():
                return float(self.max_interval)
            interval = float(super().tick(min=min, **kwargs))
            Heartbeat(get_redis(self.app)).beat("scheduler", ttl_s=int(self.lock_timeout))
        except redis.exceptions.LockNotOwnedError:
            log.warning("beat: another beat holds the lock now; standing by")
            self.lock = None
            return float(self.max_interval)
        except redis.RedisError as exc:
            return self._wait_for_redis(exc)
        self._redis_is_back()
        return interval

    def _holds_lock(self) -> bool:
        """True while this beat may schedule; tries to take the lock when it has none."""
        if not self.lock_key or self.lock is not None:
            return True
        client = get_redis(self.app)
        lock = client.lock(self.lock_key, timeout=self.lock_timeout, sleep=self.max_interval)
        lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)  # as RedBeat does
        if not lock.acquire(blocking=False):
            if not self._standing_by:
                log.info("beat: another beat holds the lock; standing by")
            self._standing_by = True
            return False
        log.info("beat: acquired the lock")
        self.lock, self._standing_by = lock, False
        return True

    def _wait_for_redis(self, exc: redis.RedisError) -> float:
        self._failures += 1
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            log.warning("beat: Redis unreachable (%s); scheduling nothing until it is back", exc)
        return min(MAX_BACKOFF_S, 2.0 ** (self._failures - 1))

    def _redis_is_back(self) -> None:
        if self._outage_since is not None:
            log.warning(
                "beat: Redis reachable again after %.0fs", time.monotonic() - self._outage_since
            )
        self._outage_since, self._failures = None, 0

    def close(self) -> None:
        try:
            super().close()
        except redis.RedisError as exc:  # the lock expires by itself
            log.warning("beat: could not release the lock (%s)", exc)

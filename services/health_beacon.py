"""A worker's heartbeat, written from a thread of its own: a Redis outage delays only this
thread, never the worker's event loop, and the key lapses by itself when the worker dies."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

import redis

from services.health import WorkerInfo

log = logging.getLogger(__name__)


class HeartbeatStore(Protocol):
    """Where heartbeats go (services/health.py's WorkerHeartbeats, or a fake)."""

    def write(self, info: WorkerInfo) -> None: ...

    def remove(self, nodename: str) -> None: ...


class WorkerBeacon:
    """Writes `describe()` every `interval_s` until stopped, then removes the key."""

    def __init__(
        self,
        store: HeartbeatStore,
        describe: Callable[[], WorkerInfo],
        *,
        interval_s: float,
    ) -> None:
        self._store = store
        self._describe = describe
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="greenhouse-heartbeat", daemon=True)
        self._failing = False
        self.nodename = describe().nodename

    def start(self) -> WorkerBeacon:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, *, wait_s: float = 0.0) -> None:
        """Stop beating; the thread removes the key on its way out (waited for `wait_s`)."""
        self._stopping.set()
        if wait_s > 0 and self._thread.is_alive():
            self._thread.join(wait_s)

    def beat_once(self) -> bool:
        """One write; False (logged once per outage) when Redis cannot take it."""
        try:
            self._store.write(self._describe())
        except (redis.RedisError, OSError) as exc:
            if not self._failing:
                log.warning("worker heartbeat: cannot write to Redis (%s); retrying", exc)
            self._failing = True
            return False
        if self._failing:
            log.warning("worker heartbeat: written again")
        self._failing = False
        return True

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.beat_once()
            self._stopping.wait(self._interval_s)
        try:
            self._store.remove(self.nodename)
        except (redis.RedisError, OSError) as exc:  # the key lapses by itself
            log.warning("worker heartbeat: could not remove %s (%s)", self.nodename, exc)

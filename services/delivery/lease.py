"""Leased delivery on Redis: a live worker keeps renewing every message it holds.

kombu's Redis transport keeps each delivered, unacknowledged message in the `unacked` hash and
its delivery time in the `unacked_index` sorted set; a sweep returns to its queue any message
whose time is older than the visibility timeout. A worker that renews the time of every message
it holds (running, reserved, or waiting for its countdown) turns that timeout into a short lease:
a lost worker's messages come back within it, a live worker's never do, however long it holds them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection

import redis
from celery.worker import state

log = logging.getLogger(__name__)


def renew(client: redis.Redis, key: str, tags: Collection[str], *, now: float) -> int:
    """Set the delivery time of `tags` to `now`; how many were renewed.

    XX updates members only: a tag acknowledged or restored meanwhile stays gone.
    """
    if not tags:
        return 0
    changed = client.zadd(key, dict.fromkeys(tags, now), xx=True, ch=True)
    return int(changed or 0)


def held_tags() -> set[str]:
    """Delivery tags of every message this worker holds: reserved, running or scheduled."""
    return {request.message.delivery_tag for request in list(state.requests.values())}


def running_tags() -> set[str]:
    """Delivery tags of the messages whose tasks are running in this worker's pool."""
    return {request.message.delivery_tag for request in list(state.active_requests)}


class LeaseRenewer:
    """A daemon thread that renews `held()` every `interval_s`, patient while Redis is away.

    It runs beside the event loop, so a long task on the solo or threads pool, or a busy loop,
    never lets a live worker's lease lapse. While Redis is unreachable it says so once, retries
    every second (so leases are renewed within a second of Redis's return) and says when it
    works again.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        key: str,
        interval_s: float,
        held: Callable[[], Collection[str]] = held_tags,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._key = key
        self._interval_s = interval_s
        self._held = held
        self._clock = clock
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-renewer", daemon=True)
        self._failing_since: float | None = None

    def start(self) -> LeaseRenewer:
        self._thread.start()
        return self

    def stop(self, *, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def renew_once(self) -> int:
        """Renew every held message now; how many were renewed."""
        return renew(self._redis, self._key, self._held(), now=self._clock())

    def _run(self) -> None:
        wait_s = self._interval_s
        while not self._stopping.wait(wait_s):
            try:
                self.renew_once()
            except redis.RedisError as exc:
                self._on_failure(exc)
                wait_s = min(1.0, self._interval_s)
            else:
                self._on_success()
                wait_s = self._interval_s

    def _on_failure(self, exc: redis.RedisError) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            log.warning("cannot renew delivery leases (%s); retrying every second", exc)

    def _on_success(self) -> None:
        if self._failing_since is not None:
            outage_s = time.monotonic() - self._failing_since
            self._failing_since = None
            log.warning("delivery leases renewed again after %.0fs", outage_s)

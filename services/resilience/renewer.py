"""One renewal thread per process for every lock it holds.

python-redis-lock starts and joins a thread per acquired lock; with 64 identifications in flight
on a threads worker that is 64 threads started and joined per second. Here one daemon thread
renews every held lock when it falls due. Its failures are logged, never silent: a Redis error
retries soon (a missed renewal leaves a third of the expiry), a lock found expired stops being
renewed. Locks are held weakly: one dropped without release stops being renewed once collected.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import Any

import redis
import redis_lock

log = logging.getLogger(__name__)
RENEW_RETRY_S = 0.25  # after a failed renewal, the next try


class Renewer:
    """Extends each registered lock every `interval_s` of its own, from one thread."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._due: weakref.WeakKeyDictionary[Any, tuple[float, float, bool]] = (
            weakref.WeakKeyDictionary()
        )
        self._pid = 0

    def hold(self, lock: redis_lock.Lock, *, interval_s: float) -> None:
        with self._changed:
            if self._pid != os.getpid():  # a forked child holds none of its parent's locks
                self._due.clear()
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="lock-renewer", daemon=True).start()
            self._due[lock] = (time.monotonic() + interval_s, interval_s, False)
            self._changed.notify()

    def drop(self, lock: redis_lock.Lock) -> None:
        with self._changed:
            self._due.pop(lock, None)

    def _run(self) -> None:
        while True:
            for lock, interval_s, failing in self._wait_for_due():
                self._renew(lock, interval_s, failing)

    def _wait_for_due(self) -> list[tuple[Any, float, bool]]:
        with self._changed:
            while True:
                now = time.monotonic()
                entries = list(self._due.items())
                due = [(lock, every, bad) for lock, (at, every, bad) in entries if at <= now]
                if due:
                    return due
                soonest = min((at for at, _, _ in self._due.values()), default=now + 60)
                self._changed.wait(timeout=soonest - now)

    def _renew(self, lock: Any, interval_s: float, failing: bool) -> None:
        name = lock._name
        try:
            lock.extend(expire=lock._expire)
        except redis_lock.NotAcquired:
            log.warning("lock %s expired while held; renewal stops", name)
            self.drop(lock)
            return
        except redis.RedisError as exc:
            if not failing:
                log.warning("could not renew lock %s (%s); retrying", name, exc)
            self._reschedule(lock, min(interval_s, RENEW_RETRY_S), interval_s, failing=True)
            return
        if failing:
            log.warning("lock %s renewed again", name)
        self._reschedule(lock, interval_s, interval_s, failing=False)

    def _reschedule(self, lock: Any, wait_s: float, interval_s: float, *, failing: bool) -> None:
        with self._changed:
            if lock in self._due:  # not released meanwhile
                self._due[lock] = (time.monotonic() + wait_s, interval_s, failing)


RENEWER = Renewer()

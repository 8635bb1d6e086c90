"""Soft time limits on the threads pool, which Celery enforces only on prefork and gevent.

A task still running past its soft limit gets SoftTimeLimitExceeded raised in its thread, as a
prefork child gets it from a signal: at the next bytecode, so a call blocked in a socket read
meets it when the read returns (every read Greenhouse makes has a timeout). The task then
retries or fails like any other transient error. A thread cannot be killed: a hard limit is not
enforced here, and a task that swallows the exception runs on (it is logged each time).
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun

log = logging.getLogger(__name__)
CHECK_EVERY_S = 0.5


class Deadlines:
    """Running tasks by thread, and one watchdog thread raising in those past their limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, tuple[int, float, str]] = {}  # id → thread, deadline, name
        self._stop = threading.Event()  # never set: the watchdog dies with the process

    def start(self) -> Deadlines:
        threading.Thread(target=self._watch, name="soft-time-limits", daemon=True).start()
        return self

    def begin(self, task_id: str, name: str, *, limit_s: float) -> None:
        with self._lock:
            self._running[task_id] = (threading.get_ident(), time.monotonic() + limit_s, name)

    def end(self, task_id: str) -> None:
        with self._lock:
            self._running.pop(task_id, None)

    def _watch(self) -> None:
        while not self._stop.wait(CHECK_EVERY_S):
            now = time.monotonic()
            with self._lock:  # held while raising: a task that ended meanwhile is never hit
                late = [(i, entry) for i, entry in self._running.items() if entry[1] <= now]
                for task_id, (thread, _, name) in late:
                    del self._running[task_id]  # raised once, as prefork does
                    log.warning("%s[%s] passed its soft time limit; stopping it", name, task_id)
                    _raise_in(thread)


def _raise_in(thread: int) -> None:
    exc = ctypes.py_object(SoftTimeLimitExceeded)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), exc)


_deadlines: Deadlines | None = None
_default_s: float | None = None


def watch(*, default_limit_s: float | None) -> None:
    """Start enforcing soft time limits in this (threads) worker."""
    global _deadlines, _default_s
    _default_s, _deadlines = default_limit_s, Deadlines().start()


@task_prerun.connect
def _begin(task_id: str, task: Task, **_: Any) -> None:
    if _deadlines is None:
        return
    limit_s = (task.request.timelimit or (None, None))[1] or task.soft_time_limit or _default_s
    if limit_s:
        _deadlines.begin(task_id, task.name, limit_s=float(limit_s))


@task_postrun.connect
def _end(task_id: str, **_: Any) -> None:
    if _deadlines is not None:
        _deadlines.end(task_id)

"""The per-process object graph, built lazily after fork and rebuilt in every new process."""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any

from services.bootstrap import Container, bootstrap
from services.settings import load

_lock = threading.Lock()
_built: tuple[int, Container] | None = None
_worker: dict[str, Any] = {}  # the pool this worker really runs, whatever the settings say


def configure_worker(*, pool: str, concurrency: int) -> None:
    """Size this process's clients for the worker's pool (its command line may override
    WORKER_POOL and WORKER_CONCURRENCY)."""
    _worker.update(worker_pool=pool, worker_concurrency=concurrency)


def container() -> Container:
    """This process's container; a forked child never reuses its parent's sockets."""
    global _built
    pid = os.getpid()
    if _built is None or _built[0] != pid:
        with _lock:
            if _built is None or _built[0] != pid:
                _built = (pid, bootstrap(dataclasses.replace(load(), **_worker)))
    return _built[1]


def install(wired: Container) -> None:
    """Use `wired` in this process from now on (a unit test's graph of fakes)."""
    global _built
    with _lock:
        _built = (os.getpid(), wired)


def close() -> None:
    """Close this process's clients (at worker shutdown)."""
    global _built
    with _lock:
        if _built is not None and _built[0] == os.getpid():
            _built[1].close()
        _built = None


def given(**values: Any) -> dict[str, Any]:
    """A task's keyword arguments without those left at None (to be validated)."""
    return {key: value for key, value in values.items() if value is not None}

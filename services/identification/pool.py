"""The process's shared thread pool for provider calls: created lazily, rebuilt after fork."""

from __future__ import annotations

import atexit
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_owner_pid = 0


def shared_pool(*, max_workers: int) -> ThreadPoolExecutor:
    """The one bounded pool of this process (threads do not survive fork, so neither does it)."""
    global _pool, _owner_pid
    if _pool is None or _owner_pid != os.getpid():
        with _lock:
            if _pool is None or _owner_pid != os.getpid():
                _pool = ThreadPoolExecutor(max_workers, thread_name_prefix="providers")
                _owner_pid = os.getpid()
    return _pool


def shutdown() -> None:
    """Stop the pool at exit without waiting for calls that would be thrown away anyway."""
    global _pool
    with _lock:
        if _pool is not None and _owner_pid == os.getpid():
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _forget_after_fork() -> None:
    global _pool, _lock
    _pool, _lock = None, threading.Lock()  # the parent's lock may have been held at fork


atexit.register(shutdown)
os.register_at_fork(after_in_child=_forget_after_fork)

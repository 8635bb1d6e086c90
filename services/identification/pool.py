"""Each provider's own thread pool in this process (a bulkhead): created lazily, rebuilt after
fork. A provider that answers slowly fills its own pool, never the other provider's."""

from __future__ import annotations

import atexit
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_pools: dict[str, ThreadPoolExecutor] = {}
_owner_pid = 0


def provider_pool(provider: str, *, max_workers: int) -> ThreadPoolExecutor:
    """`provider`'s bounded pool in this process (threads do not survive fork, so neither do
    the pools)."""
    global _owner_pid
    with _lock:
        if _owner_pid != os.getpid():
            _pools.clear()
            _owner_pid = os.getpid()
        if provider not in _pools:
            _pools[provider] = ThreadPoolExecutor(max_workers, thread_name_prefix=provider)
        return _pools[provider]


def shutdown() -> None:
    """Stop the pools at exit without waiting for calls that would be thrown away anyway."""
    with _lock:
        if _owner_pid == os.getpid():
            for pool in _pools.values():
                pool.shutdown(wait=False, cancel_futures=True)
        _pools.clear()


def _forget_after_fork() -> None:
    global _lock
    _pools.clear()
    _lock = threading.Lock()  # the parent's lock may have been held at fork


atexit.register(shutdown)
os.register_at_fork(after_in_child=_forget_after_fork)

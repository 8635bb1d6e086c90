"""Each provider's own thread pool (a bulkhead): a provider that answers slowly fills its own
pool, never the other provider's."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor


class ProviderPools:
    """One bounded pool per provider, created on first use. Owned by one process's container
    (threads do not survive fork, and a forked child builds its own container)."""

    def __init__(self, *, max_workers: int) -> None:
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def __call__(self, provider: str) -> ThreadPoolExecutor:
        with self._lock:
            if provider not in self._pools:
                self._pools[provider] = ThreadPoolExecutor(
                    self._max_workers, thread_name_prefix=provider
                )
            return self._pools[provider]

    def shutdown(self) -> None:
        """Stop without waiting for calls whose answers would be thrown away anyway."""
        with self._lock:
            for pool in self._pools.values():
                pool.shutdown(wait=False, cancel_futures=True)
            self._pools.clear()

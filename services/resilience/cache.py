"""JSON values in Redis under versioned keys, and a bounded in-process stand-in for outages."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import redis

FENCE_SUFFIX = ":fence"  # beside each value written under single flight: its fencing token

# KEYS: value, fence. ARGV: fencing token, JSON, ttl (s). Nil when written; else the value a
# newer token wrote, which stands (false when it has expired since).
_SET_FENCED = """
local fence = redis.call('GET', KEYS[2])
if fence and tonumber(fence) > tonumber(ARGV[1]) then
  return {redis.call('GET', KEYS[1])}
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
return nil
"""


class JsonCache:
    """`greenhouse:v<version>:<namespace>:<key>` → JSON; bumping `version` orphans old keys.

    Redis errors propagate: each caller decides what an unreachable cache means to it.
    """

    def __init__(self, client: redis.Redis, *, namespace: str, version: int, ttl_s: int) -> None:
        self._redis = client
        self._set_fenced = client.register_script(_SET_FENCED)
        self.prefix = f"greenhouse:v{version}:{namespace}"
        self.ttl_s = ttl_s

    @property
    def client(self) -> redis.Redis:
        """The Redis the values live in (for bookkeeping kept beside them)."""
        return self._redis

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def get(self, name: str) -> Any | None:
        return self.decode(self._redis.get(self.key(name)))

    def set(self, name: str, value: Any, *, ttl_s: int | None = None) -> None:
        self._redis.set(self.key(name), json.dumps(value), ex=ttl_s or self.ttl_s)

    @staticmethod
    def decode(raw: bytes | str | None) -> Any | None:
        return None if raw is None else json.loads(raw)

    def set_fenced(
        self, name: str, value: Any, *, token: int, ttl_s: int | None = None
    ) -> tuple[bool, Any | None]:
        """Store `value` unless a newer `token` stored one: (written, the newer value if not).

        A holder that lost its lock (paused past expiry, say) and returns late holds an older
        token than whoever computed after it, so its answer never replaces the newer one.
        """
        ttl = ttl_s or self.ttl_s
        keys = [self.key(name), self.key(name) + FENCE_SUFFIX]
        standing = self._set_fenced(keys=keys, args=[token, json.dumps(value), ttl])
        if standing is None:
            return True, None
        return False, self.decode(standing[0] or None)

    def scan(self, pattern: str) -> Iterator[str]:
        """Keys under this cache matching `pattern` (SCAN: never blocks Redis like KEYS)."""
        for key in self._redis.scan_iter(match=self.key(pattern), count=500):
            yield key.decode() if isinstance(key, bytes) else key

    def drop(self, keys: list[str]) -> None:
        """UNLINK (freed in the background), in batches."""
        for start in range(0, len(keys), 500):
            self._redis.unlink(*keys[start : start + 500])


class LocalCache:
    """A bounded, expiring, thread-safe in-process cache (LRU beyond `max_entries`)."""

    def __init__(self, *, max_entries: int = 1024) -> None:
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, name: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or entry[0] < time.monotonic():
                self._entries.pop(name, None)
                return None
            self._entries.move_to_end(name)
            return entry[1]

    def set(self, name: str, value: Any, *, ttl_s: int) -> None:
        with self._lock:
            self._entries[name] = (time.monotonic() + ttl_s, value)
            self._entries.move_to_end(name)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def drop_matching(self, prefix: str) -> list[str]:
        with self._lock:
            names = [name for name in self._entries if name.startswith(prefix)]
            for name in names:
                del self._entries[name]
            return names

    def __len__(self) -> int:
        return len(self._entries)

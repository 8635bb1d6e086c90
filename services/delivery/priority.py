"""One priority scale for callers on every broker: 0 = least urgent … 9 = most urgent.

RabbitMQ serves higher numbers first; kombu's Redis transport serves lower numbers first.
Greenhouse publishes through `to_broker`, so callers never see the inversion.
"""

from __future__ import annotations

import functools

LOWEST = 0
HIGHEST = 9
DEFAULT = 5
STEPS = HIGHEST - LOWEST + 1


@functools.cache  # asked on every publish; the broker URL does not change
def is_redis_url(url: str) -> bool:
    return url.split("://", 1)[0] in {"redis", "rediss", "redis+socket", "sentinel"}


def clamp(priority: int | None) -> int:
    return DEFAULT if priority is None else max(LOWEST, min(HIGHEST, int(priority)))


def to_broker(priority: int | None, *, redis: bool) -> int:
    """The broker-native priority for a caller's priority (None means DEFAULT)."""
    value = clamp(priority)
    return HIGHEST - value if redis else value


def from_broker(native: int | None, *, redis: bool) -> int | None:
    """The caller's priority for a broker-native one (the mapping is its own inverse)."""
    return None if native is None else to_broker(native, redis=redis)

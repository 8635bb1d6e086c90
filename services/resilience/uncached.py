"""The caches switched off (CACHE_ENABLED=false): every value comes from its source each time,
and nothing is read from or written to Redis's caches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class UncachedStatistics:
    """The statistics cache, off: each statistic is computed by the database when asked."""

    def get_or_compute(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> tuple[Any, bool]:
        return compute(), False

    def invalidate(self, patterns: list[str]) -> list[str]:
        return []

    def expiring(self, *, read_within_s: float, lead_s: float, limit: int) -> list[str]:
        return []  # nothing is cached, so the warmer has nothing to keep warm

    def refresh(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> bool:
        return False


class UncachedAnswers:
    """Identification answers, off: each request asks the providers (their rate limits and
    quota budget still apply)."""

    def get_or_compute(
        self, key: str, compute: Callable[[], Any], *, ttl_s: Callable[[Any], int] | None = None
    ) -> tuple[Any, bool]:
        return compute(), False

"""The last remaining-request count each provider reported, in the Redis hash
`greenhouse:quota:<provider>` (`remaining`, `seen_at` in epoch seconds), for the quota reporter."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Quota:
    """What a provider last said it had left."""

    remaining: int
    seen_at: float


class QuotaSink(Protocol):
    """Where the identification service notes the counts providers report (a fake in tests)."""

    def record(self, remaining: Mapping[str, int]) -> None: ...


class QuotaLog:
    """Counts in Redis: one pipelined write per provider call that reported one."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "greenhouse:quota",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock

    def key(self, provider: str) -> str:
        return f"{self._prefix}:{provider}"

    def record(self, remaining: Mapping[str, int]) -> None:
        """Note each provider's count; a Redis error is logged, never raised (the answer the
        count came with matters more than the count)."""
        seen_at = repr(self._clock())
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for provider, count in remaining.items():
                    pipe.hset(self.key(provider), mapping={"remaining": count, "seen_at": seen_at})
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not note the providers' remaining quota (%s)", exc)

    def read(self, providers: Sequence[str]) -> dict[str, Quota]:
        """The last count of each of `providers` that ever reported one, in one round trip."""
        with self._redis.pipeline(transaction=False) as pipe:
            for provider in providers:
                pipe.hmget(self.key(provider), ["remaining", "seen_at"])
            rows = pipe.execute()
        return {
            provider: Quota(remaining=int(remaining), seen_at=float(seen_at))
            for provider, (remaining, seen_at) in zip(providers, rows, strict=True)
            if remaining is not None and seen_at is not None
        }

"""Per-provider throttling shared by every process: a rate (GCRA, with a burst), a daily count
that resets at the provider's reset time, and pauses set by a 429, in one Lua call each
(`ratelimit_scripts.py`), all on Redis's clock.

No library fitted: `limits` has no GCRA and starts its daily window at the first hit (not at
the provider's reset time), and neither it nor throttled-py checks a pause and two limits in
one round trip. `acquire()` reserves the caller's slot and sleeps until it (calls run on a
thread pool), or raises Throttled when the slot is further away than the caller can wait.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import redis

from services.errors import TransientError
from services.resilience import ratelimit_scripts as scripts

log = logging.getLogger(__name__)
PREFIX = "greenhouse:throttle"
ADMITTED, PAUSED, SPENT, RATE = 0, 1, 2, 3
REASONS = {PAUSED: "paused", SPENT: "daily", RATE: "rate"}
REDIS_WARNING_EVERY_S = 30.0  # one warning per this long while Redis is away, not one per call


class Throttled(TransientError):
    """Not called: a pause, the daily quota or the rate says come back in `min_delay_s`."""

    def __init__(self, message: str, *, provider: str, reason: str, min_delay_s: float) -> None:
        super().__init__(message, min_delay_s=min_delay_s)
        self.provider = provider
        self.reason = reason  # paused, daily, rate, or upstream (the provider's own 429)


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A provider's limits; 0 means none of that kind."""

    per_second: float = 0.0
    burst: int = 1  # calls that may go at once after a quiet spell
    per_day: int = 0  # until the provider reports its own limit
    day_starts_s: float = 0.0  # after UTC midnight: when the provider's daily count resets


@dataclass(frozen=True, kw_only=True)
class Usage:
    """A provider's daily count as Redis holds it."""

    used: int
    limit: int  # 0: none known
    reset_in_s: float


class RateLimiter:
    """Admits calls to each provider at its plan's pace, across every process."""

    def __init__(
        self,
        client: redis.Redis,
        plans: Mapping[str, Plan],
        *,
        prefix: str = PREFIX,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._redis = client
        self._plans = dict(plans)
        self._prefix = prefix
        self._sleep = sleep
        self._acquire = client.register_script(scripts.ACQUIRE)
        self._pause = client.register_script(scripts.PAUSE)
        self._sync = client.register_script(scripts.SYNC)
        self._refund = client.register_script(scripts.REFUND)
        self._warned_at = -math.inf

    def key(self, provider: str, part: str) -> str:
        """`greenhouse:throttle:<provider>:<part>` (paused_until, tat or day)."""
        return f"{self._prefix}:{provider}:{part}"

    def plan(self, provider: str) -> Plan:
        return self._plans.get(provider, Plan())

    def acquire(self, provider: str, *, wait_s: float, keep_share: float = 0.0) -> None:
        """Return at this call's slot (sleeping at most `wait_s`), or raise Throttled.

        `keep_share` of the daily limit stays unspent for others (0: spend down to nothing).
        A Redis error admits the call: the provider's own 429 is still there to stop it.
        """
        plan = self.plan(provider)
        interval_us = round(1_000_000 / plan.per_second) if plan.per_second > 0 else 0
        args: list[int | str] = [
            max(0, round(wait_s * 1_000_000)),
            interval_us,
            max(1, plan.burst),
            plan.per_day,
            repr(float(keep_share)),
            round(plan.day_starts_s * 1_000_000),
        ]
        keys = [self.key(provider, part) for part in ("paused_until", "tat", "day")]
        try:
            code, delay_us, remaining = self._acquire(keys=keys, args=args)
        except redis.RedisError as exc:
            self._warn(provider, "admitted unthrottled", exc)
            return
        delay_s = int(delay_us) / 1_000_000
        if code != ADMITTED:
            raise _refusal(provider, int(code), delay_s, int(remaining))
        if delay_s > 0:
            self._sleep(delay_s)

    def pause(self, provider: str, seconds: float) -> float:
        """Stop every process calling `provider` for `seconds` (a longer pause set stays);
        the pause's end in epoch seconds on Redis's clock (0.0 if Redis could not be told)."""
        try:
            until_ms = self._pause(keys=[self.key(provider, "paused_until")], args=[seconds * 1000])
        except redis.RedisError as exc:
            self._warn(provider, "pause not shared", exc)
            return 0.0
        return int(until_ms) / 1000

    def sync(self, provider: str, *, remaining: int, limit: int | None = None) -> None:
        """Take the provider's own count of today's remaining calls (and limit, if it said)."""
        plan = self.plan(provider)
        args = [remaining, limit or 0, plan.per_day, round(plan.day_starts_s * 1_000_000)]
        try:
            self._sync(keys=[self.key(provider, "day")], args=args)
        except redis.RedisError as exc:
            self._warn(provider, "remaining count not noted", exc)

    def refund(self, provider: str) -> None:
        """Give back a call admitted but never made (its breaker refused it)."""
        args = [round(self.plan(provider).day_starts_s * 1_000_000)]
        try:
            self._refund(keys=[self.key(provider, "day")], args=args)
        except redis.RedisError as exc:
            self._warn(provider, "refund lost", exc)

    def usage(self, provider: str) -> Usage:
        """Today's count, limit and time to the reset, in one round trip."""
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.hmget(self.key(provider, "day"), ["period", "used", "limit"])
            (seconds, micros), (period, used, limit) = pipe.execute()
        plan = self.plan(provider)
        now_s = seconds + micros / 1_000_000
        today = math.floor((now_s - plan.day_starts_s) / 86400)
        return Usage(
            used=int(used) if period is not None and int(period) == today else 0,
            limit=int(limit) if limit is not None else plan.per_day,
            reset_in_s=(today + 1) * 86400 + plan.day_starts_s - now_s,
        )

    def _warn(self, provider: str, what: str, exc: redis.RedisError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= REDIS_WARNING_EVERY_S:
            self._warned_at = now
            log.warning("throttle %s: Redis unreachable (%s): %s", provider, exc, what)


def _refusal(provider: str, code: int, delay_s: float, remaining: int) -> Throttled:
    reason = REASONS.get(code, "rate")
    detail = {
        "paused": "paused after its 429",
        "daily": f"daily quota spent at this share ({max(remaining, 0)} left in reserve)",
        "rate": "over its rate",
    }[reason]
    return Throttled(
        f"{provider}: {detail}; next slot in {delay_s:.1f}s",
        provider=provider,
        reason=reason,
        min_delay_s=delay_s,
    )

"""Each provider's daily quota, shared out by priority: low priorities stop while a reserve is
left, high priorities (>= a threshold) may spend it down to nothing.

The count lives with the rate limiter's (one Lua call admits a call on both): every admitted
call spends one, and whatever a provider reports (PlantNet's remaining count on each answer,
Plant.id's usage_info) replaces it, since the provider's number is the one that counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from services.delivery import priority as priorities
from services.identification.allowance import Allowance
from services.resilience.ratelimit import Throttled

HIGH_PRIORITY = 7
RESERVE_SHARE = 0.2


class QuotaSpent(Throttled):
    """This priority's share of the provider's daily quota is spent until the reset."""

    def __init__(self, provider: str, *, priority: int, min_delay_s: float) -> None:
        super().__init__(
            f"{provider}: daily quota spent for priority {priority}; "
            f"resets in {min_delay_s / 3600:.1f}h",
            provider=provider,
            reason="daily",
            min_delay_s=min_delay_s,
        )
        self.priority = priority


@dataclass(frozen=True, kw_only=True)
class Shares:
    """How much of a daily limit is kept for priorities at or above `high_priority`."""

    reserve_share: float = RESERVE_SHARE
    high_priority: int = HIGH_PRIORITY

    def keep_share(self, priority: int | None) -> float:
        """The share of the limit a call of `priority` must leave unspent."""
        return 0.0 if priorities.clamp(priority) >= self.high_priority else self.reserve_share


def reserve(limit: int, share: float) -> int:
    """Calls kept back out of `limit` (rounded up; the tolerance absorbs 0.7 * 10 = 7.000…1)."""
    return max(0, math.ceil(limit * share - 1e-9))


def may_spend(*, limit: int, remaining: int, keep_share: float) -> bool:
    """Whether one more call fits (the rule the Lua applies atomically)."""
    return remaining > reserve(limit, keep_share)


class Limiter(Protocol):
    """What the budget needs of services.resilience.ratelimit.RateLimiter (a fake in tests)."""

    def acquire(self, provider: str, *, wait_s: float, keep_share: float = 0.0) -> None: ...

    def pause(self, provider: str, seconds: float) -> float: ...

    def refund(self, provider: str) -> None: ...

    def sync(self, provider: str, *, remaining: int, limit: int | None = None) -> None: ...


class UsageSource(Protocol):
    """A provider that can say what is left of its quota without spending any (Plant.id)."""

    name: str

    def usage(self, *, timeout_s: float) -> Allowance | None: ...


class QuotaBudget:
    """Admits a call of a given priority to a provider (its pause, its rate and its quota, in
    one round trip), and takes what the provider says back (429s, remaining counts)."""

    def __init__(self, limiter: Limiter, *, shares: Shares | None = None) -> None:
        self.limiter = limiter
        self.shares = shares or Shares()

    def acquire(self, provider: str, *, priority: int | None, wait_s: float) -> None:
        """Return at the call's slot, or raise QuotaSpent (this priority's share is gone) or
        Throttled (paused, or over the rate for longer than `wait_s`)."""
        try:
            self.limiter.acquire(
                provider, wait_s=wait_s, keep_share=self.shares.keep_share(priority)
            )
        except Throttled as exc:
            if exc.reason != "daily":
                raise
            level = priorities.clamp(priority)
            raise QuotaSpent(provider, priority=level, min_delay_s=exc.min_delay_s) from None

    def pause(self, provider: str, seconds: float) -> float:
        """After the provider's 429: nobody calls it for `seconds` (see RateLimiter.pause)."""
        return self.limiter.pause(provider, seconds)

    def refund(self, provider: str) -> None:
        """Give back a call that was admitted but never made."""
        self.limiter.refund(provider)

    def sync(self, provider: str, *, remaining: int, limit: int | None = None) -> None:
        """The provider's own count (and limit, when it said) replaces ours."""
        self.limiter.sync(provider, remaining=remaining, limit=limit)

    def record(self, remaining: Mapping[str, int]) -> None:
        """Counts providers reported with their answers (fits QuotaSink)."""
        for provider, count in remaining.items():
            self.sync(provider, remaining=count)

    def refresh(self, source: UsageSource, *, timeout_s: float = 5.0) -> Allowance | None:
        """Ask a provider's usage endpoint and take its numbers; what it said (None: no limit)."""
        left = source.usage(timeout_s=timeout_s)
        if left is not None:
            self.sync(source.name, remaining=left.remaining, limit=left.limit)
        return left

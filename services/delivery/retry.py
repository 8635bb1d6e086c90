"""Retry schedule: exponential backoff with full jitter, capped, respecting a minimum delay."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """`countdown(n)` for the n-th retry (0-based); give up after `max_retries`."""

    base_delay_s: float
    max_delay_s: float
    max_retries: int

    def countdown(
        self, retries: int, *, min_delay_s: float = 0.0, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry number `retries` + 1.

        Full jitter (uniform over [0, base * 2**retries], capped) spreads a burst of failures
        out; a minimum delay (Retry-After, a breaker's remaining open time) is a floor. Nothing
        exceeds `max_delay_s`, which the visibility-timeout check relies on. Celery's own
        helper rounds to whole seconds, too coarse for sub-second bases.
        """
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** min(retries, 62))
        jittered = (rng or random).uniform(0.0, ceiling)
        return min(self.max_delay_s, max(min_delay_s, jittered))


# How a task's own retry is published: patient enough to ride out a broker outage of about a
# minute (0.5 s, 1 s, … 5 s apart: 75 s of waiting, more while each attempt times out) before
# the message is left to its lease.
PUBLISH_PATIENCE = {
    "max_retries": 20,
    "interval_start": 0.5,
    "interval_step": 0.5,
    "interval_max": 5,
}

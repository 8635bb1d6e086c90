"""Circuit breakers shared by every process: pybreaker's model, Redis state, no lock held.

Semantics (pybreaker's, documented in the README): closed, the breaker counts consecutive
failures (by completion, across all processes; any success resets the count) and opens at
`fail_max`; open, it refuses calls for `reset_timeout_s` (Redis's clock); then half-open, it
admits at most `half_open_max_calls` trials at once: a trial's success closes it, its failure
opens it again. Only transient errors count as failures. pybreaker itself keeps state, count and
open time as separate values set one by one, and holds a lock across the guarded call (pybreaker
issue 55): here the state changes by compare-and-set in one Lua call (`breaker_state.py`) and
nothing is held while the upstream answers. While Redis is unreachable each process keeps the
same state machine for itself, and says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import pybreaker
import redis

from services import metrics
from services.errors import TransientError, classify
from services.resilience.breaker_state import Limits, LocalState, Refusal, SharedState, Ticket
from services.resilience.ratelimit import Throttled

log = logging.getLogger(__name__)
T = TypeVar("T")


class BreakerOpen(TransientError, pybreaker.CircuitBreakerError):
    """The breaker refused the call (it was not made); retry after `min_delay_s`."""

    def __init__(self, name: str, wait_s: float) -> None:
        super().__init__(
            f"circuit breaker {name!r} is open; next trial in {wait_s:.1f}s", min_delay_s=wait_s
        )
        self.breaker = name


def counts_as_failure(exc: BaseException) -> bool:
    """Only transient errors say the upstream is unwell; a bad photo never trips a breaker, nor
    does throttling: a 429 is an answer from an upstream that is well, and its pause holds off
    every process for exactly as long as it asked."""
    return not isinstance(exc, Throttled) and classify(exc).transient


class CircuitBreaker:
    """One upstream's breaker; `call()` raises BreakerOpen instead of calling when refused."""

    def __init__(
        self,
        name: str,
        client: redis.Redis,
        *,
        fail_max: int,
        reset_timeout_s: float,
        half_open_max_calls: int = 1,
        trial_timeout_s: float = 30.0,
        redis_retry_s: float = 5.0,
        is_failure: Callable[[BaseException], bool] = counts_as_failure,
    ) -> None:
        if client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("breaker state needs a Redis client that does not decode responses")
        self.name = name
        limits = Limits(
            fail_max=fail_max,
            reset_timeout_s=reset_timeout_s,
            half_open_max_calls=half_open_max_calls,
            trial_timeout_s=trial_timeout_s,
        )
        self.shared = SharedState(name, client, limits)
        self.local = LocalState(limits)
        self._is_failure = is_failure
        self._redis_retry_s = redis_retry_s
        self._degraded_until = 0.0  # monotonic: use `local` until then
        self._refused_until = 0.0  # monotonic: known open, refuse without a round trip

    def call(self, func: Callable[..., T], *args: object, **kwargs: object) -> T:
        ticket = self.admit()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            failed = self._is_failure(exc)
            if failed:
                log.info("breaker %s: %s counted as a failure", self.name, type(exc).__name__)
            self.record(ticket, ok=not failed)
            raise
        self.record(ticket, ok=True)
        return result

    def admit(self) -> Ticket:
        """A ticket for one call, or BreakerOpen."""
        now = time.monotonic()
        if now < self._refused_until:
            raise BreakerOpen(self.name, self._refused_until - now)
        verdict = self._shared(self.shared.admit) if not self.degraded else None
        if verdict is None:
            verdict = self.local.admit()
        if isinstance(verdict, Refusal):
            if verdict.wait_s > 0:
                self._refused_until = now + verdict.wait_s
            # Trials running elsewhere: how long they take is unknown, so at least a second.
            raise BreakerOpen(self.name, verdict.wait_s or 1.0)
        return verdict

    def record(self, ticket: Ticket, *, ok: bool) -> None:
        """Count the outcome of an admitted call (in the generation that admitted it)."""
        shared = None
        if not (ticket.local or self.degraded):
            shared = self._shared(lambda: self.shared.record(ticket, ok=ok))
        transition = shared or self.local.record(ticket, ok=ok)
        if transition.after != transition.before:
            log.warning("breaker %s: %s -> %s", self.name, transition.before, transition.after)
            metrics.breaker_transition(self.name, transition.after)

    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._degraded_until

    @property
    def current_state(self) -> str:
        """closed, open or half_open, as every process sees it (this process's while degraded)."""
        if self.degraded:
            return self.local.state
        return self.shared.snapshot()[0]

    @property
    def fail_counter(self) -> int:
        return self.local.failures if self.degraded else self.shared.snapshot()[1]

    def _shared(self, operation: Callable[[], T]) -> T | None:
        try:
            result = operation()
        except redis.RedisError as exc:
            if not self.degraded:
                log.warning(
                    "breaker %s: Redis unreachable (%s); counting in this process for %.0fs",
                    self.name,
                    type(exc).__name__,
                    self._redis_retry_s,
                )
            self._degraded_until = time.monotonic() + self._redis_retry_s
            return None
        if self._degraded_until:
            self._degraded_until = 0.0
            log.warning("breaker %s: Redis reachable again; state is shared again", self.name)
        return result

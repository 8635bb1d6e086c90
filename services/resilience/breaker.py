"""Circuit breakers: pybreaker's state machine over state shared in Redis by every process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import pybreaker
import redis

from services.errors import TransientError, classify
from services.resilience.breaker_storage import SharedBreakerStorage

log = logging.getLogger(__name__)
T = TypeVar("T")


class BreakerOpen(TransientError):
    """The breaker is open: the call was not made; retry after `min_delay_s`."""

    def __init__(self, name: str, remaining_s: float) -> None:
        super().__init__(
            f"circuit breaker {name!r} is open; next trial in {remaining_s:.1f}s",
            min_delay_s=remaining_s,
        )
        self.breaker = name


class LogListener(pybreaker.CircuitBreakerListener):
    """Logs every state change and counted failure."""

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        old = getattr(old_state, "name", old_state)
        log.warning("breaker %s: %s -> %s", cb.name, old, new_state.name)

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        log.info(
            "breaker %s: failure %d/%d (%s)",
            cb.name,
            cb.fail_counter,
            cb.fail_max,
            type(exc).__name__,
        )


class _Safe(pybreaker.CircuitBreakerListener):
    """A listener that can never break the call it observes."""

    def __init__(self, inner: pybreaker.CircuitBreakerListener) -> None:
        self._inner = inner

    def _guard(self, hook: str, *args: Any) -> None:
        try:
            getattr(self._inner, hook)(*args)
        except Exception:
            log.exception("breaker listener %r failed in %s (ignored)", self._inner, hook)

    def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        self._guard("before_call", cb, func, *args)

    def failure(self, cb: Any, exc: BaseException) -> None:
        self._guard("failure", cb, exc)

    def success(self, cb: Any) -> None:
        self._guard("success", cb)

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        self._guard("state_change", cb, old_state, new_state)


def counts_as_failure(exc: BaseException) -> bool:
    """Only transient errors say the upstream is unwell; a bad photo never trips a breaker."""
    return classify(exc).transient


class _BudgetedClosedState(pybreaker.CircuitClosedState):
    """Closed; once a failure is on record, each call takes a slot of the failure budget first.

    Without it, every call started between the first failure and the breaker opening reaches
    the failing upstream: with many processes that is far more than `fail_max`.
    """

    def before_call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        storage = cast(SharedBreakerStorage, self._breaker._state_storage)
        if not storage.take_budget_slot(self._breaker.fail_max):
            raise pybreaker.CircuitBreakerError("the failure budget is spent by calls in flight")


class CircuitBreaker(pybreaker.CircuitBreaker):
    """One upstream's breaker; `call()` raises BreakerOpen instead of calling when open."""

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
        listeners: Iterable[pybreaker.CircuitBreakerListener] = (),
    ) -> None:
        self.storage = SharedBreakerStorage(
            name,
            client,
            reset_timeout_s=reset_timeout_s,
            half_open_max_calls=half_open_max_calls,
            trial_timeout_s=trial_timeout_s,
            redis_retry_s=redis_retry_s,
        )
        super().__init__(
            fail_max=fail_max,
            reset_timeout=reset_timeout_s,
            exclude=[lambda exc: not is_failure(exc)],
            # Ours is safe by construction; anyone else's is wrapped so it cannot break a call.
            listeners=[LogListener(), *(_Safe(listener) for listener in listeners)],
            state_storage=self.storage,
            name=name,
            throw_new_error_on_trip=False,  # the call that trips it reports its own error
        )

    def _create_new_state(
        self, new_state: str, prev_state: Any = None, notify: bool = False
    ) -> Any:
        if new_state == pybreaker.STATE_CLOSED:
            return _BudgetedClosedState(self, prev_state=prev_state, notify=notify)
        return super()._create_new_state(new_state, prev_state=prev_state, notify=notify)

    def half_open(self) -> None:
        """Enter half-open only with one of the trial permits shared by every process."""
        if not self.storage.try_acquire_trial():
            raise pybreaker.CircuitBreakerError("a trial call is already running elsewhere")
        super().half_open()

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return super().call(func, *args, **kwargs)
        except pybreaker.CircuitBreakerError as exc:
            # While someone else's trial runs, the wait is unknown: at least a second.
            raise BreakerOpen(str(self.name), max(1.0, self.storage.remaining_open_s())) from exc

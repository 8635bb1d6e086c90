"""A periodic service's lifecycle as pure decisions: whether a run may go ahead now, and what a
success or a failure does to the service's state. The state is stored elsewhere (Redis)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, kw_only=True)
class Policy:
    """How a service runs and fails: every `interval_s`; after a failure it waits a delay that
    grows from `retry_delay_s` to `max_retry_delay_s`; `max_failures` in a row pause it for
    `cooldown_s` (then it resumes on its own, or earlier by command)."""

    interval_s: float
    max_failures: int = 3
    retry_delay_s: float = 30.0
    max_retry_delay_s: float = 900.0
    cooldown_s: float = 1800.0

    def retry_delay(self, failures: int) -> float:
        """The wait after the `failures`-th failure in a row (1-based): doubling, capped."""
        return min(self.max_retry_delay_s, self.retry_delay_s * 2 ** max(0, failures - 1))


@dataclass(frozen=True)
class Retry:
    """Try again, no sooner than `delay_s` from now."""

    delay_s: float


@dataclass(frozen=True)
class Stop:
    """Stop until an operator resumes the service (a bad key, a broken configuration)."""

    reason: str


Decision = Retry | Stop


@dataclass(frozen=True, kw_only=True)
class Status:
    """What is known of a service between runs (times are epoch seconds)."""

    failures: int = 0  # in a row
    not_before: float = 0.0  # no run before this (a retry delay)
    paused_reason: str | None = None
    paused_until: float | None = None  # None while paused: until an operator resumes it
    last_error: str | None = None

    @property
    def paused(self) -> bool:
        return self.paused_reason is not None


def skip_reason(status: Status, now: float) -> str | None:
    """Why a run must not go ahead now, or None when it may. A pause whose cool-down is over
    no longer holds (see `resumed_if_due`)."""
    if status.paused_until is None and status.paused:
        return f"paused until resumed: {status.paused_reason}"
    if status.paused_until is not None and now < status.paused_until:
        return f"paused for {status.paused_until - now:.0f}s more: {status.paused_reason}"
    if now < status.not_before:
        return f"retrying in {status.not_before - now:.0f}s after: {status.last_error}"
    return None


def resumed_if_due(status: Status, now: float) -> Status:
    """A pause with a cool-down ends on its own once the cool-down is over."""
    if status.paused and status.paused_until is not None and now >= status.paused_until:
        return Status()  # a clean start, as an operator's resume gives
    return status


def after_success(status: Status) -> Status:
    """A success clears the failure count and any retry delay."""
    return replace(status, failures=0, not_before=0.0, last_error=None)


def after_failure(
    status: Status, error: str, decision: Decision, policy: Policy, now: float
) -> Status:
    """Count the failure; stop, pause at the budget, or wait the decided delay."""
    failed = replace(status, failures=status.failures + 1, last_error=error)
    if isinstance(decision, Stop):
        return replace(failed, paused_reason=decision.reason, paused_until=None)
    if failed.failures >= policy.max_failures:
        reason = f"{failed.failures} failures in a row; last: {error}"
        return replace(failed, paused_reason=reason, paused_until=now + policy.cooldown_s)
    return replace(failed, not_before=now + decision.delay_s)

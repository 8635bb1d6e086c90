"""The periodic-service base class and the one way a run goes: skip (paused, waiting out a retry
delay) or configure → update → cleanup, with the outcome recorded for operators."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from services.background import lifecycle
from services.background.lifecycle import Decision, Policy, Retry, Status, Stop
from services.errors import PermanentError


class BackgroundService(ABC):
    """A service beat runs every `policy.interval_s`; subclasses override `update` and whichever
    other hooks they need (all the others do nothing)."""

    def __init__(
        self, service_id: str, *, policy: Policy, options: Mapping[str, Any] | None = None
    ) -> None:
        self.service_id = service_id
        self.policy = policy
        self.options = dict(options or {})

    def configure(self) -> None:
        """Set-up before each run (the options may have changed since the last)."""
        return None  # a hook: most services need none

    @abstractmethod
    def update(self) -> int:
        """One run; how many items it processed. Runs must be idempotent."""

    def cleanup(self) -> None:
        """Tear-down after each run, whether it succeeded or not."""
        return None  # a hook: most services need none

    def health(self) -> dict[str, Any]:
        """What the service knows of its own health, for `greenhouse services list`."""
        return {}

    def handle_failure(self, error: Exception, failures: int) -> Decision:
        """Retry after a growing delay; a permanent error (a bad key, a broken configuration)
        stops the service until an operator resumes it."""
        if isinstance(error, PermanentError):
            return Stop(f"{type(error).__name__}: {error}")
        return Retry(self.policy.retry_delay(failures))


class Store(Protocol):
    """Where statuses and metrics live (services/background/state.py, or a fake)."""

    def status(self, service_id: str) -> Status: ...

    def save(self, service_id: str, status: Status) -> None: ...

    def record_run(
        self,
        service_id: str,
        *,
        ok: bool,
        items: int,
        started_at: float,
        duration_s: float,
        health: dict[str, Any] | None = None,
    ) -> None: ...


@dataclass(frozen=True, kw_only=True)
class RunReport:
    """What one `services.run` did (JSON-ready through `to_dict`)."""

    service: str
    ran: bool
    ok: bool = False
    items: int = 0
    duration_s: float = 0.0
    skipped: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_once(
    service: BackgroundService, store: Store, *, clock: Callable[[], float] = time.time
) -> RunReport:
    """Run `service` once unless its status says not now; record what happened."""
    now = clock()
    status = lifecycle.resumed_if_due(store.status(service.service_id), now)
    reason = lifecycle.skip_reason(status, now)
    if reason is not None:
        return RunReport(service=service.service_id, ran=False, skipped=reason)
    started = time.perf_counter()
    try:
        service.configure()
        items = service.update()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        decision = service.handle_failure(exc, status.failures + 1)
        status = lifecycle.after_failure(status, error, decision, service.policy, now)
        outcome = RunReport(service=service.service_id, ran=True, error=error)
    else:
        status = lifecycle.after_success(status)
        outcome = RunReport(service=service.service_id, ran=True, ok=True, items=items)
    finally:
        service.cleanup()
    duration_s = time.perf_counter() - started
    store.save(service.service_id, status)
    store.record_run(
        service.service_id,
        ok=outcome.ok,
        items=outcome.items,
        started_at=now,
        duration_s=duration_s,
        health=_health(service),
    )
    return replace(outcome, duration_s=round(duration_s, 3))


def _health(service: BackgroundService) -> dict[str, Any]:
    """The service's own health report; a failing report is itself the report."""
    try:
        return service.health()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}

"""What operators see of every periodic service: configuration, state and metrics in one row."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import redis

from services.background import lifecycle, registry
from services.background.config import ServiceConfig
from services.background.state import Metrics, ServiceStore


@dataclass(frozen=True, kw_only=True)
class ServiceView:
    """One service as `greenhouse services list` shows it."""

    config: ServiceConfig
    state: str  # running normally, or why not: disabled / paused … / retrying …
    failures: int  # in a row
    last_error: str | None
    metrics: Metrics
    health: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.config.name,
            **self.config.to_dict(),
            "state": self.state,
            "failures_in_a_row": self.failures,
            "last_error": self.last_error,
            **asdict(self.metrics),
            "health": self.health,
        }


def overview(client: redis.Redis, *, now: float | None = None) -> list[ServiceView]:
    """Every registered service, by name."""
    store = ServiceStore(client)
    moment = time.time() if now is None else now
    views = []
    for name in registry.names():
        config = registry.live_config(client, name)
        status = lifecycle.resumed_if_due(store.status(name), moment)
        state = "disabled" if not config.enabled else lifecycle.skip_reason(status, moment)
        views.append(
            ServiceView(
                config=config,
                state=state or "ok",
                failures=status.failures,
                last_error=status.last_error,
                metrics=store.metrics(name),
                health=store.health(name),
            )
        )
    return views

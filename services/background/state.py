"""Each periodic service's status and metrics, in the Redis hash `greenhouse:service:<id>`, so
any worker can run the service and operators can see and steer it."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any

import redis

from services.background.lifecycle import Status

_STATUS = tuple(f.name for f in fields(Status))


@dataclass(frozen=True, kw_only=True)
class Metrics:
    """Counters and times of a service's runs (epoch seconds)."""

    runs: int = 0
    failures: int = 0
    items: int = 0
    last_run_at: float | None = None
    last_duration_s: float | None = None
    last_success_at: float | None = None


class ServiceStore:
    """Reads and writes services' status and metrics; one hash per service."""

    def __init__(self, client: redis.Redis, *, prefix: str = "greenhouse:service") -> None:
        self._redis = client
        self._prefix = prefix

    def key(self, service_id: str) -> str:
        return f"{self._prefix}:{service_id}"

    def status(self, service_id: str) -> Status:
        """The stored status; an operator's pause (`hold`) overrides it until resumed."""
        values = self._redis.hmget(self.key(service_id), [*_STATUS, "held"])
        raw = dict(zip([*_STATUS, "held"], (text(v) for v in values), strict=True))
        status = Status(
            failures=int(raw["failures"] or 0),
            not_before=float(raw["not_before"] or 0),
            paused_reason=raw["paused_reason"] or None,
            paused_until=float(raw["paused_until"]) if raw["paused_until"] else None,
            last_error=raw["last_error"] or None,
        )
        if raw["held"]:
            return replace(
                status, paused_reason=f"by an operator: {raw['held']}", paused_until=None
            )
        return status

    def hold(self, service_id: str, reason: str) -> None:
        """Pause until resumed. Kept apart from the status a run saves, so a run in progress
        cannot undo it."""
        self._redis.hset(self.key(service_id), "held", reason or "no reason given")

    def resume(self, service_id: str) -> None:
        """Lift an operator's pause and any automatic one; the failure count starts over."""
        self.save(service_id, Status())
        self._redis.hdel(self.key(service_id), "held")

    def save(self, service_id: str, status: Status) -> None:
        """Store `status` (absent values as empty strings: one HSET, no stale fields)."""
        mapping = {name: _field(getattr(status, name)) for name in _STATUS}
        self._redis.hset(self.key(service_id), mapping=mapping)  # type: ignore[arg-type]

    def record_run(
        self,
        service_id: str,
        *,
        ok: bool,
        items: int,
        started_at: float,
        duration_s: float,
        health: dict[str, Any] | None = None,
    ) -> None:
        """Count one run, when it happened and what the service said of its health, in one
        round trip."""
        key = self.key(service_id)
        pipe = self._redis.pipeline()
        pipe.hincrby(key, "runs", 1)
        pipe.hincrby(key, "items", items)
        if not ok:
            pipe.hincrby(key, "failures_total", 1)
        times = {"last_run_at": started_at, "last_duration_s": duration_s}
        if ok:
            times["last_success_at"] = started_at + duration_s
        fields_ = {name: repr(value) for name, value in times.items()}
        fields_["health"] = json.dumps(health or {}, default=str)
        pipe.hset(key, mapping=fields_)  # type: ignore[arg-type]
        pipe.execute()

    def health(self, service_id: str) -> dict[str, Any]:
        """What the service reported of its health after its last run."""
        raw = text(self._redis.hget(self.key(service_id), "health"))
        return dict(json.loads(raw)) if raw else {}

    def metrics(self, service_id: str) -> Metrics:
        names = ("runs", "failures_total", "items", "last_run_at", "last_duration_s")
        raw = self._redis.hmget(self.key(service_id), [*names, "last_success_at"])
        runs, failures, items, run_at, duration, success_at = (text(v) for v in raw)
        return Metrics(
            runs=int(runs or 0),
            failures=int(failures or 0),
            items=int(items or 0),
            last_run_at=float(run_at) if run_at else None,
            last_duration_s=float(duration) if duration else None,
            last_success_at=float(success_at) if success_at else None,
        )


def text(value: Any) -> str | None:
    """A Redis reply as text (clients may or may not decode)."""
    return value.decode() if isinstance(value, bytes) else value


def _field(value: object) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)

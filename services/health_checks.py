"""What `greenhouse health` and the health monitor check, and the verdict: healthy when every
component checked is alive. Probes run at once, each with a short timeout, so the answer comes
within a few seconds even when Redis, the database or the broker does not answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import redis

from services.delivery.depths import broker_depths
from services.health import Heartbeat, WorkerHeartbeats, WorkerInfo
from services.health_database import ping_database

# redis: PING; database: SELECT 1; broker: a connection, and the queues' depths; workers: a live
# heartbeat for every queue (or named node); scheduler: the active beat's heartbeat (written every
# tick); pipeline: beat's diagnostic.heartbeat ran through a worker lately.
COMPONENTS = ("redis", "database", "broker", "workers", "scheduler", "pipeline")


@dataclass(frozen=True, kw_only=True)
class Check:
    """One component's state: alive or not, a line for people, details for machines."""

    component: str
    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    took_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        took_ms = round(self.took_ms, 1)
        return {"ok": self.ok, "summary": self.summary, "details": self.details, "took_ms": took_ms}


@dataclass(frozen=True, kw_only=True)
class Report:
    """Every component checked; healthy only when each one is."""

    checks: tuple[Check, ...]
    at: float

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[str]:
        return [check.component for check in self.checks if not check.ok]

    def to_dict(self) -> dict[str, Any]:
        checks = {check.component: check.to_dict() for check in self.checks}
        return {"ok": self.ok, "at": self.at, "failing": self.failing, "checks": checks}


def workers_verdict(
    live: Sequence[WorkerInfo], *, queues: Sequence[str], nodes: Sequence[str] = ()
) -> Check:
    """Alive when each of `queues` has a live worker and each of `nodes` is live."""
    serving = {queue: sorted(w.nodename for w in live if queue in w.queues) for queue in queues}
    alive = {worker.nodename for worker in live}
    missing = [node for node in nodes if node not in alive]
    problems = [f"no live worker for {queue}" for queue, names in serving.items() if not names]
    problems += [f"{node} not alive" for node in missing]
    counts = [f"{queue} {len(names)}" for queue, names in serving.items()]
    counts += [f"{node} alive" for node in nodes]
    summary = "; ".join(problems) or "live workers: " + (", ".join(counts) or "none asked for")
    details = {
        "queues": serving,
        "nodes": [worker.to_dict() for worker in live],
        "missing_nodes": missing,
    }
    return Check(component="workers", ok=not problems, summary=summary, details=details)


def age_verdict(
    component: str, age_s: float | None, *, max_age_s: float | None, what: str
) -> Check:
    """Alive while `what` was seen (its key exists) no longer than `max_age_s` ago."""
    if age_s is None:
        return Check(component=component, ok=False, summary=f"no {what} seen (none alive)")
    details = {"age_s": round(age_s, 1), "max_age_s": max_age_s}
    if max_age_s is not None and age_s > max_age_s:
        summary = f"last {what} {age_s:.0f}s ago (over {max_age_s:g}s)"
        return Check(component=component, ok=False, summary=summary, details=details)
    return Check(
        component=component, ok=True, summary=f"last {what} {age_s:.0f}s ago", details=details
    )


@dataclass(kw_only=True)
class Probes:
    """The real components, each asked once per check with a short timeout."""

    redis: redis.Redis  # built with `timeout_s` timeouts
    database_url: str
    broker_url: str
    queues: Sequence[str]
    nodes: Sequence[str] = ()
    timeout_s: float = 2.0
    pipeline_max_age_s: float = 90.0

    def check_redis(self) -> Check:
        started = time.perf_counter()
        self.redis.ping()
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            memory = self.redis.info("memory")
        except redis.ResponseError:  # managed Redis may refuse INFO; PING is what counts
            memory = {}
        details = {"latency_ms": round(latency_ms, 2)} | {
            key: memory.get(key) for key in ("used_memory", "maxmemory", "maxmemory_policy")
        }
        used_mb = int(memory.get("used_memory", 0)) / 1e6
        summary = f"PING {latency_ms:.1f} ms, {used_mb:.1f} MB used"
        return Check(component="redis", ok=True, summary=summary, details=details)

    def check_database(self) -> Check:
        latency_ms = ping_database(self.database_url, timeout_s=self.timeout_s)
        details = {"latency_ms": round(latency_ms, 2)}
        return Check(
            component="database",
            ok=True,
            summary=f"SELECT 1 in {latency_ms:.1f} ms",
            details=details,
        )

    def check_broker(self) -> Check:
        depths = broker_depths(self.broker_url, self.queues, timeout_s=self.timeout_s)
        queued = {depth.queue: depth.to_dict() for depth in depths.queues}
        summary = "connected; queued " + ", ".join(f"{d.queue} {d.total}" for d in depths.queues)
        details = {"queues": queued, "unacked": depths.unacked}
        return Check(component="broker", ok=True, summary=summary, details=details)

    def check_workers(self) -> Check:
        live = WorkerHeartbeats(self.redis).live()
        return workers_verdict(live, queues=self.queues, nodes=self.nodes)

    def check_scheduler(self) -> Check:
        age_s = Heartbeat(self.redis).age_s("scheduler")  # its TTL says when beat is dead
        return age_verdict("scheduler", age_s, max_age_s=None, what="beat tick")

    def check_pipeline(self) -> Check:
        age_s = Heartbeat(self.redis).age_s("beat")
        max_age_s = self.pipeline_max_age_s
        return age_verdict("pipeline", age_s, max_age_s=max_age_s, what="beat heartbeat task")


def run_checks(
    probes: Probes,
    components: Sequence[str] = COMPONENTS,
    *,
    clock: Callable[[], float] = time.time,
) -> Report:
    """Check `components` at once (one thread each); a probe that raises is a failed check."""
    at = clock()
    with ThreadPoolExecutor(max_workers=max(1, len(components))) as pool:
        futures = [pool.submit(_guarded, probes, name) for name in components]
        checks = tuple(future.result() for future in futures)
    return Report(checks=checks, at=at)


def _guarded(probes: Probes, component: str) -> Check:
    started = time.perf_counter()
    try:
        check: Check = getattr(probes, f"check_{component}")()
    except Exception as exc:
        check = Check(component=component, ok=False, summary=_one_line(exc))
    return replace(check, took_ms=(time.perf_counter() - started) * 1000)


def _one_line(error: Exception) -> str:
    """The error as one line; SQLAlchemy's wrapper gives way to the driver's own error."""
    cause = getattr(error, "orig", None) or error
    text = " ".join(str(cause).split())
    return f"{type(cause).__name__}: {text[:300]}"

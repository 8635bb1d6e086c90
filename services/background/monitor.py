"""Health monitor: the checks `greenhouse health` runs (Redis, database, broker with its queue
depths per queue and priority, worker heartbeats, scheduler), breaker states and this host's CPU,
memory and disk, written as a snapshot with a TTL and appended to a bounded history.

The history is the sorted set `greenhouse:health:history` (scored by epoch seconds): each run adds
one sample and drops the oldest beyond `history_samples` (at most `trim_batch` a run), and the
retention service drops samples older than HEALTH_HISTORY_RETENTION_DAYS.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import redis

from services.background.base import BackgroundService
from services.background.config import ServiceConfig
from services.background.lifecycle import Policy
from services.health import HEALTH_HISTORY_KEY
from services.health_checks import Probes, Report, run_checks
from services.health_sample import sample, system_metrics
from services.resilience.guards import Breaker

if TYPE_CHECKING:
    from services.bootstrap import Container

log = logging.getLogger(__name__)
SNAPSHOT_KEY = "greenhouse:health:snapshot"
SNAPSHOT_LIFETIMES = 3  # a snapshot outlives this many intervals: a missing one means no monitor

# KEYS: the history. ARGV: the sample's score and JSON, the most samples kept, the most removed.
# The oldest have the lowest ranks; removing at most ARGV[4] keeps every run's work bounded.
_APPEND = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
local n = math.min(excess, tonumber(ARGV[4]))
if n > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - 1) return n end
return 0
"""


class HealthMonitor(BackgroundService):
    """One snapshot and one history sample a run (`items` is 1); components found dead are
    recorded, not raised: only Redis being away (nowhere to write) fails a run."""

    def __init__(
        self,
        service_id: str,
        *,
        policy: Policy,
        options: Mapping[str, Any] | None = None,
        client: redis.Redis,
        database_url: str,
        broker_url: str,
        queues: Sequence[str],
        breakers: Mapping[str, Breaker],
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(service_id, policy=policy, options=options)
        self._redis = client
        self._database_url = database_url
        self._broker_url = broker_url
        self._queues = list(queues)
        self._breakers = breakers
        self._clock = clock
        self._last: dict[str, Any] = {}

    def update(self) -> int:
        report = run_checks(self._probes(), clock=self._clock)
        snapshot = report.to_dict() | {
            "breakers": self._breaker_states(),
            "system": system_metrics(
                disk_path=str(self.options["disk_path"]),
                cpu_sample_s=float(self.options["cpu_sample_s"]),
            ),
        }
        self._write(snapshot)
        if not report.ok:
            log.warning("health: not alive: %s", _failures(report))
        self._last = {"ok": report.ok, "failing": report.failing}
        return 1

    def health(self) -> dict[str, Any]:
        """The verdict of the last run and what failed in it."""
        return dict(self._last)

    def _probes(self) -> Probes:
        return Probes(
            redis=self._redis,
            database_url=self._database_url,
            broker_url=self._broker_url,
            queues=self._queues,
            timeout_s=float(self.options["probe_timeout_s"]),
            pipeline_max_age_s=float(self.options["pipeline_max_age_s"]),
        )

    def _breaker_states(self) -> dict[str, str]:
        states = {}
        for name, breaker in self._breakers.items():
            try:
                states[name] = breaker.current_state
            except Exception as exc:  # Redis away: the report says so, the snapshot still goes
                states[name] = f"unknown ({type(exc).__name__})"
        return states

    def _write(self, snapshot: dict[str, Any]) -> None:
        ttl_s = max(1, round(SNAPSHOT_LIFETIMES * self.policy.interval_s))
        self._redis.set(SNAPSHOT_KEY, json.dumps(snapshot, default=str), ex=ttl_s)
        entry = json.dumps(sample(snapshot), default=str, sort_keys=True)
        keep, batch = int(self.options["history_samples"]), int(self.options["trim_batch"])
        args: list[str | int] = [repr(snapshot["at"]), entry, max(1, keep), max(1, batch)]
        self._redis.eval(_APPEND, 1, HEALTH_HISTORY_KEY, *args)


def _failures(report: Report) -> str:
    return "; ".join(f"{c.component}: {c.summary}" for c in report.checks if not c.ok)


def read_snapshot(client: redis.Redis) -> dict[str, Any] | None:
    """The latest snapshot, or None when no monitor ran lately."""
    raw = client.get(SNAPSHOT_KEY)
    return None if raw is None else json.loads(raw)


def read_history(client: redis.Redis, count: int) -> list[dict[str, Any]]:
    """The latest `count` samples, oldest first."""
    if count <= 0:
        return []
    newest_first = cast(list[bytes], client.zrevrange(HEALTH_HISTORY_KEY, 0, count - 1))
    return [json.loads(raw) for raw in reversed(newest_first)]


def build(container: Container, config: ServiceConfig) -> HealthMonitor:
    import celeryconfig  # the broker and queues the workers use (it starts nothing)

    return HealthMonitor(
        config.name,
        policy=config.policy,
        options=config.options,
        client=container.redis,
        database_url=container.settings.sqlalchemy_url,
        broker_url=str(celeryconfig.broker_url),
        queues=[queue.name for queue in celeryconfig.task_queues],
        breakers=container.breakers,
    )

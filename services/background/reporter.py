"""Quota and breaker reporter: each provider's breaker state and last seen remaining quota, in
the JSON key `greenhouse:report:providers`, with a warning while a quota is running out."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import redis

from services.background.base import BackgroundService
from services.background.config import ServiceConfig
from services.background.lifecycle import Policy
from services.errors import GreenhouseError
from services.identification.budget import QuotaBudget, UsageSource
from services.identification.quota import Quota, QuotaLog
from services.resilience.guards import Breaker

if TYPE_CHECKING:
    from services.bootstrap import Container

log = logging.getLogger(__name__)
REPORT_KEY = "greenhouse:report:providers"
REPORT_LIFETIMES = 3  # the report outlives this many intervals: a missing one means no reporter


class QuotaReporter(BackgroundService):
    """Writes one report per run; `items` is the number of providers reported."""

    def __init__(
        self,
        service_id: str,
        *,
        policy: Policy,
        options: Mapping[str, Any] | None = None,
        breakers: Mapping[str, Breaker],
        quotas: QuotaLog,
        client: redis.Redis,
        clock: Callable[[], float] = time.time,
        budget: QuotaBudget | None = None,
        usage_sources: Sequence[UsageSource] = (),
    ) -> None:
        super().__init__(service_id, policy=policy, options=options)
        self._breakers = breakers
        self._quotas = quotas
        self._redis = client
        self._clock = clock
        self._budget = budget
        self._usage_sources = usage_sources
        self._providers: dict[str, dict[str, Any]] = {}

    def update(self) -> int:
        self._refresh_usage()
        now = self._clock()
        seen = self._quotas.read(list(self._breakers))
        self._providers = providers = {
            name: provider_entry(
                name,
                breaker.current_state,
                seen.get(name),
                now=now,
                warn_below=int(self.options["warn_below"]),
                max_age_s=float(self.options["max_age_s"]),
            )
            for name, breaker in self._breakers.items()
        }
        report = {"generated_at": now, "providers": providers}
        ttl_s = max(1, round(REPORT_LIFETIMES * self.policy.interval_s))
        self._redis.set(REPORT_KEY, json.dumps(report), ex=ttl_s)
        return len(providers)

    def _refresh_usage(self) -> None:
        """Plant.id says what is left only when asked: one GET a run feeds the budget."""
        if self._budget is None:
            return
        for source in self._usage_sources:
            try:
                left = self._budget.refresh(source)
            except GreenhouseError as exc:
                log.warning("%s usage unavailable (%s)", source.name, exc)
                continue
            if left is not None:
                self._quotas.record({source.name: left.remaining})

    def health(self) -> dict[str, Any]:
        """Providers whose quota is running out, and breakers not closed, at the last run."""
        entries = self._providers.items()
        return {
            "low_quota": [name for name, entry in entries if entry["low"]],
            "breakers_not_closed": [n for n, entry in entries if entry["breaker"] != "closed"],
        }


def provider_entry(
    name: str, state: str, quota: Quota | None, *, now: float, warn_below: int, max_age_s: float
) -> dict[str, Any]:
    """One provider's line of the report; a WARNING when its quota is running out."""
    entry: dict[str, Any] = {"breaker": state, "remaining": None, "seen_at": None}
    entry |= {"stale": False, "low": False}
    if quota is None:  # this provider never reported a count (Plant.id does not)
        return entry
    age_s = max(0.0, now - quota.seen_at)
    stale = age_s > max_age_s
    # A stale count says nothing of today's quota (PlantNet's resets daily): no warning.
    low = not stale and quota.remaining < warn_below
    entry |= {"remaining": quota.remaining, "seen_at": quota.seen_at, "stale": stale, "low": low}
    if low:
        log.warning(
            "%s quota running out: %d requests left (warning below %d), seen %.0fs ago",
            name,
            quota.remaining,
            warn_below,
            age_s,
        )
    return entry


def build(container: Container, config: ServiceConfig) -> QuotaReporter:
    return QuotaReporter(
        config.name,
        policy=config.policy,
        options=config.options,
        breakers=container.breakers,
        quotas=QuotaLog(container.redis),
        client=container.redis,
        budget=container.budget,
        usage_sources=container.usage_sources,
    )

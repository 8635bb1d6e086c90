"""Statistics warmer: recomputes the statistics read lately shortly before their cached values
end, so steady reads stay hits.

What is hot is what readers asked for: the statistics cache notes each name read (at most once
every few seconds per process, so a hot read costs no extra round trip), and a run takes the
names read within `read_within_s` whose values end within `lead_s`. That warms exactly what is
read, the long tail included, and nothing nobody reads; a fixed list (the overview, the busiest
forums) would miss the users and forums people happen to look at. A refresh replaces the value
in place under the statistic's single-flight lock with a fencing token: readers keep the old
value until the new one lands, and a statistic a reader is computing right now is left to it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from services.background.base import BackgroundService
from services.background.config import ServiceConfig
from services.background.lifecycle import Policy
from services.errors import PermanentError, TransientError, ValidationError

if TYPE_CHECKING:
    from services.bootstrap import Container

log = logging.getLogger(__name__)
REFRESHED, BUSY, GONE, FAILED = "refreshed", "busy", "gone", "failed"


class Statistics(Protocol):
    """What the warmer needs of the statistics service (services/statistics/service.py)."""

    def expiring(self, *, read_within_s: float, lead_s: float, limit: int) -> list[str]: ...

    def refresh(self, name: str) -> bool: ...


class StatisticsWarmer(BackgroundService):
    """One run refreshes the hot statistics about to expire; `items` is how many it refreshed."""

    def __init__(
        self,
        service_id: str,
        *,
        policy: Policy,
        options: Mapping[str, Any] | None = None,
        statistics: Statistics,
    ) -> None:
        super().__init__(service_id, policy=policy, options=options)
        self._statistics = statistics
        self._last: dict[str, Any] = {}

    def configure(self) -> None:
        check(ServiceConfig(name=self.service_id, policy=self.policy, options=self.options))

    def update(self) -> int:
        due = self._statistics.expiring(
            read_within_s=float(self.options["read_within_s"]),
            lead_s=float(self.options["lead_s"]),
            limit=int(self.options["max_per_run"]),
        )
        counts = Counter({REFRESHED: 0, BUSY: 0, GONE: 0, FAILED: 0})
        for name in due:
            counts[self._refresh(name)] += 1
        self._last = {"due": len(due), **counts}
        if counts[FAILED] and not counts[REFRESHED]:  # the database is away, say: back off
            raise TransientError(f"none of {len(due)} statistics could be refreshed")
        return counts[REFRESHED]

    def health(self) -> dict[str, Any]:
        """The last run's counts: due, refreshed, busy (computed elsewhere), gone, failed."""
        return dict(self._last)

    def _refresh(self, name: str) -> str:
        """Refresh one statistic on its own: refreshed, busy, gone (no such forum or user any
        more) or failed; readers recompute a failed one on their next miss, as without us."""
        try:
            return REFRESHED if self._statistics.refresh(name) else BUSY
        except PermanentError as exc:
            log.info("statistic %s not refreshed: %s", name, exc)
            return GONE
        except Exception as exc:
            log.warning("statistic %s not refreshed (%s: %s)", name, type(exc).__name__, exc)
            return FAILED


def check(config: ServiceConfig) -> None:
    """Refuse a lead that a value could outlive between two runs."""
    lead_s = float(config.options["lead_s"])
    if lead_s <= config.policy.interval_s:
        raise ValidationError(
            f"lead_s ({lead_s:g}) must exceed interval_s ({config.policy.interval_s:g}) "
            "plus a run's duration, or statistics expire between runs"
        )


def build(container: Container, config: ServiceConfig) -> StatisticsWarmer:
    return StatisticsWarmer(
        config.name,
        policy=config.policy,
        options=config.options,
        statistics=container.statistics,
    )

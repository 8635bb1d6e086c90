"""Retention cleanup: identification records, dead letters and health history past their
retention (settings), and cache keys of old cache versions, removed in bounded batches.

Dead letters: one never replayed may still need an operator, so it stays
DEAD_LETTER_RETENTION_DAYS after its failure; a replayed one has been dealt with and goes
DEAD_LETTER_REPLAYED_RETENTION_DAYS after its replay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import Session, sessionmaker

from services.background import sweeps
from services.background.base import BackgroundService
from services.background.config import ServiceConfig
from services.background.lifecycle import Policy
from services.delivery.deadletters import DeadLetterRow
from services.health import HEALTH_HISTORY_KEY
from services.identification.records import IdentificationRow
from services.settings import Settings

if TYPE_CHECKING:
    from services.bootstrap import Container

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How long each kind of record is kept."""

    records: timedelta
    dead_letters: timedelta
    replayed_dead_letters: timedelta
    health_history: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(
            records=timedelta(days=settings.record_retention_days),
            dead_letters=timedelta(days=settings.dead_letter_retention_days),
            replayed_dead_letters=timedelta(days=settings.dead_letter_replayed_retention_days),
            health_history=timedelta(days=settings.health_history_retention_days),
        )


class RetentionService(BackgroundService):
    """One run removes at most `max_per_run` of each kind, `batch_size` at a time; idempotent."""

    def __init__(
        self,
        service_id: str,
        *,
        policy: Policy,
        options: Mapping[str, Any] | None = None,
        retention: Retention,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        cache_client: redis.Redis,
        cache_version: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(service_id, policy=policy, options=options)
        self._retention = retention
        self._sessions = sessions
        self._redis = client
        self._cache_redis = cache_client
        self._cache_version = cache_version
        self._clock = clock
        self._removed: dict[str, int] = {}

    def update(self) -> int:
        now = self._clock()
        sweeps_by_kind: dict[str, Callable[[datetime], int]] = {
            "identification records": self._records,
            "dead letters": self._dead_letters,
            "health samples": self._health_history,
            "old cache keys": self._cache_keys,
        }
        errors: list[Exception] = []
        for kind, sweep in sweeps_by_kind.items():
            try:  # one kind failing (the database away) does not keep the others
                self._removed[kind] = sweep(now)
            except Exception as exc:
                log.warning("retention: could not remove %s: %s", kind, exc)
                errors.append(exc)
        log.info("retention removed %s", ", ".join(f"{n} {k}" for k, n in self._removed.items()))
        if errors:
            raise errors[0]
        return sum(self._removed.values())

    def health(self) -> dict[str, Any]:
        """What the last run removed, and which kinds stopped at the limit (more may be left)."""
        limit = int(self.options["max_per_run"])
        return {
            "removed": dict(self._removed),
            "at_limit": [kind for kind, count in self._removed.items() if count >= limit],
        }

    @property
    def _bounds(self) -> dict[str, int]:
        return {
            "batch_size": int(self.options["batch_size"]),
            "limit": int(self.options["max_per_run"]),
        }

    def _records(self, now: datetime) -> int:
        cut = now - self._retention.records
        where = IdentificationRow.created_at < cut
        return sweeps.delete_rows(
            self._sessions,
            IdentificationRow,
            where,
            oldest_first=IdentificationRow.created_at,
            **self._bounds,
        )

    def _dead_letters(self, now: datetime) -> int:
        return sweeps.delete_rows(
            self._sessions,
            DeadLetterRow,
            dead_letters_past(now, self._retention),
            oldest_first=DeadLetterRow.failed_at,
            **self._bounds,
        )

    def _health_history(self, now: datetime) -> int:
        below = (now - self._retention.health_history).timestamp()
        return sweeps.trim_sorted_set(self._redis, HEALTH_HISTORY_KEY, below=below, **self._bounds)

    def _cache_keys(self, now: datetime) -> int:
        current = self._cache_version
        return sweeps.drop_old_cache_versions(self._cache_redis, current=current, **self._bounds)


def dead_letters_past(now: datetime, retention: Retention) -> ColumnElement[bool]:
    """Never replayed and failed before its retention, or replayed before the replayed one's."""
    unreplayed_cut = now - retention.dead_letters
    replayed_cut = now - retention.replayed_dead_letters
    return and_(
        # A replay follows its failure, so both cases fail before the later cut: the indexed
        # failed_at narrows the search, whatever the row's replay.
        DeadLetterRow.failed_at < max(unreplayed_cut, replayed_cut),
        or_(
            and_(DeadLetterRow.replayed_at.is_(None), DeadLetterRow.failed_at < unreplayed_cut),
            DeadLetterRow.replayed_at < replayed_cut,
        ),
    )


def build(container: Container, config: ServiceConfig) -> RetentionService:
    return RetentionService(
        config.name,
        policy=config.policy,
        options=config.options,
        retention=Retention.from_settings(container.settings),
        sessions=container.sessions,
        client=container.redis,
        cache_client=container.cache_redis,
        cache_version=container.settings.cache_version,
    )

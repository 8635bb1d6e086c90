"""The only place real clients are built: one object graph per process.

`bootstrap(settings)` wires the real parts; `bootstrap(settings, providers=[...], clock=...)`
swaps any boundary for a fake (harness/fakes.py), and whatever is swapped is never built.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypedDict, Unpack

import httpx
from redis import BlockingConnectionPool, Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.db import make_engine, session_factory
from services.delivery.deadletters import DeadLetterStore, SqlDeadLetterStore
from services.delivery.retry import RetryPolicy
from services.delivery.spill import SpillingDeadLetterStore
from services.health import Heartbeat
from services.identification.budget import QuotaBudget, Shares, UsageSource
from services.identification.plantid import PlantIdClient
from services.identification.plantnet import PlantNetClient
from services.identification.pool import ProviderPools
from services.identification.providers import Provider, http_client
from services.identification.quota import QuotaLog
from services.identification.records import IdentificationRecords, SqlIdentificationRecords
from services.identification.service import IdentificationService
from services.identification.uploads import UploadIndex
from services.moderation.scoring import Rules
from services.moderation.service import ModerationService, ModerationStore, rules_from
from services.moderation.sql import SqlModeration
from services.resilience.breaker import CircuitBreaker
from services.resilience.cache import JsonCache, LocalCache
from services.resilience.guards import Breaker, Flight
from services.resilience.lock import SingleFlight
from services.resilience.ratelimit import Plan, RateLimiter
from services.resilience.uncached import UncachedAnswers, UncachedStatistics
from services.settings import Settings
from services.statistics.cache import StatsCache
from services.statistics.repositories import ForumRepository, IdentificationRepository
from services.statistics.service import Cache, StatisticsService, Ttls
from services.statistics.sql import SqlForumRepository, SqlIdentificationRepository

log = logging.getLogger(__name__)
SANDBOX_KEY = "sandbox"  # any key works against the sandbox; a real API rejects it


class Overrides(TypedDict, total=False):
    """Boundaries a caller may hand in instead of the real ones (tests pass fakes)."""

    redis: Redis
    cache_redis: Redis
    engine: Engine
    providers: Sequence[Provider]
    breakers: Mapping[str, Breaker]
    identification_flight: Flight
    pools: Callable[[str], Executor]
    records: IdentificationRecords
    forums: ForumRepository
    identification_totals: IdentificationRepository
    stats_cache: Cache
    dead_letters: DeadLetterStore
    clock: Callable[[], datetime]
    budget: QuotaBudget
    moderation_store: ModerationStore


@dataclass(kw_only=True)
class Container:
    """Everything a task may call, wired once per process."""

    settings: Settings
    dead_letters: DeadLetterStore
    heartbeat: Heartbeat
    retry_policy: RetryPolicy
    identification: IdentificationService
    statistics: StatisticsService
    moderation: ModerationService
    redis: Redis
    breakers: Mapping[str, Breaker]
    budget: QuotaBudget
    usage_sources: Sequence[UsageSource]  # providers whose usage endpoint quota-reporter reads
    parts: _RealParts  # built on first use: sessions, cache_redis
    closers: list[Callable[[], object]] = field(default_factory=list)

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Database sessions (the engine is created on first use)."""
        return self.parts.sessions

    @property
    def cache_redis(self) -> Redis:
        """The Redis that holds caches (CACHE_REDIS_URL, else the main one)."""
        return self.parts.cache_redis

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()


def redis_client(url: str, settings: Settings, *, timeout_s: float | None = None) -> Redis:
    """A Redis client with timeouts, keepalive and idle-connection health checks, and a bounded
    pool: each task a process runs at once may hold three connections (its own and one per
    provider call), and at least 64 (threads of the process's own, waiters blocked on a lock);
    past that, a caller waits for one up to the socket timeout."""
    socket_timeout_s = timeout_s or settings.redis_socket_timeout_s
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max(64, 3 * settings.threads_per_process + 8),
        timeout=socket_timeout_s,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=timeout_s or settings.redis_connect_timeout_s,
        socket_keepalive=True,
        health_check_interval=settings.redis_health_check_interval_s,
    )
    return Redis(connection_pool=pool)


def dead_letter_store(settings: Settings, engine: Engine | None = None) -> SqlDeadLetterStore:
    """The dead-letter table alone (the CLI needs no Redis to list it)."""
    return SqlDeadLetterStore(session_factory(engine or make_engine(settings.sqlalchemy_url)))


def bootstrap(settings: Settings, **overrides: Unpack[Overrides]) -> Container:
    """Build the object graph, real where not overridden; call after fork, never at import."""
    real = _RealParts(settings, overrides)
    clock = overrides.get("clock") or _utc_now
    guarded = real.guarded_providers()
    budget = overrides.get("budget") or real.budget()
    answers = real.cache("identification", ttl_s=settings.identification_cache_ttl_s)
    return Container(
        settings=settings,
        redis=real.redis,
        breakers={provider.name: breaker for provider, breaker in guarded},
        budget=budget,
        usage_sources=[p for p, _ in guarded if isinstance(p, PlantIdClient)],
        parts=real,
        dead_letters=overrides.get("dead_letters") or real.dead_letters(),
        heartbeat=Heartbeat(real.redis),
        retry_policy=RetryPolicy(
            base_delay_s=settings.retry_base_delay_s,
            max_delay_s=settings.retry_max_delay_s,
            max_retries=settings.retry_max_retries,
        ),
        identification=IdentificationService(
            providers=guarded,
            flight=overrides.get("identification_flight") or real.answers_flight(answers),
            uploads=real.uploads(answers),
            max_side_px=settings.photo_max_side_px,
            jpeg_quality=settings.photo_jpeg_quality,
            records=overrides.get("records") or SqlIdentificationRecords(real.engine),
            pools=overrides.get("pools") or real.pools(),
            deadline_s=settings.provider_deadline_s,
            full_ttl_s=settings.identification_cache_ttl_s,
            partial_ttl_s=settings.identification_partial_ttl_s,
            clock=clock,
            quota=QuotaLog(real.redis),
            budget=budget,
            throttle_wait_s=settings.throttle_wait_s,
            default_pause_s=settings.throttle_default_pause_s,
        ),
        statistics=StatisticsService(
            forums=overrides.get("forums") or SqlForumRepository(real.sessions),
            identifications=overrides.get("identification_totals")
            or SqlIdentificationRepository(real.sessions),
            cache=overrides.get("stats_cache") or real.stats_cache(),
            clock=clock,
            ttls=Ttls(
                overview_s=settings.stats_overview_ttl_s,
                forum_s=settings.stats_forum_ttl_s,
                user_s=settings.stats_user_ttl_s,
                online_s=settings.stats_online_ttl_s,
                identification_s=settings.stats_identification_ttl_s,
            ),
        ),
        moderation=ModerationService(
            store=overrides.get("moderation_store") or SqlModeration(real.sessions),
            cache=real.cache("moderation", ttl_s=86_400) if settings.cache_enabled else None,
            rules=real.moderation_rules,
            clock=clock,
        ),
        closers=real.closers,
    )


class _RealParts:
    """Each real client built on first use only, and closed with the container."""

    def __init__(self, settings: Settings, overrides: Overrides) -> None:
        self.settings = settings
        self.overrides = overrides
        self.closers: list[Callable[[], object]] = []

    @functools.cached_property
    def redis(self) -> Redis:
        if "redis" in self.overrides:
            return self.overrides["redis"]
        client = redis_client(self.settings.redis_url_or_embedded, self.settings)
        self.closers.append(client.close)
        return client

    @functools.cached_property
    def cache_redis(self) -> Redis:
        """CACHE_REDIS_URL's Redis (may evict), else the main one."""
        if "cache_redis" in self.overrides:
            return self.overrides["cache_redis"]
        if not self.settings.cache_redis_url:
            return self.redis
        client = redis_client(self.settings.cache_redis_url, self.settings)
        self.closers.append(client.close)
        return client

    @functools.cached_property
    def engine(self) -> Engine:
        if "engine" in self.overrides:
            return self.overrides["engine"]
        # A session per call, held for one INSERT: a few connections serve many threads. SQLite
        # takes one writer at a time and makes the others sleep (up to 100 ms a try): one
        # connection, and threads queue for it instead.
        url = self.settings.sqlalchemy_url
        size = 1 if url.startswith("sqlite") else min(self.settings.threads_per_process, 10)
        engine = make_engine(url, pool_size=size, max_overflow=0 if size == 1 else size)
        self.closers.append(engine.dispose)
        return engine

    @functools.cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    def dead_letters(self) -> DeadLetterStore:
        return SpillingDeadLetterStore(
            dead_letter_store(self.settings, self.engine),
            self.redis,
            journal=self.settings.var_dir / "dead-letters.jsonl",
        )

    @property
    def calls_per_provider(self) -> int:
        """Calls one process may have in flight to each provider: one per task it runs."""
        return self.settings.provider_pool_size or self.settings.threads_per_process

    def pools(self) -> ProviderPools:
        pools = ProviderPools(max_workers=self.calls_per_provider)
        self.closers.append(pools.shutdown)
        return pools

    def cache(self, namespace: str, *, ttl_s: int) -> JsonCache:
        return JsonCache(
            self.cache_redis, namespace=namespace, version=self.settings.cache_version, ttl_s=ttl_s
        )

    def flight(self, cache: JsonCache) -> SingleFlight:
        """Values computed once across processes; the lock on the main Redis (never evicted)."""
        settings = self.settings
        return SingleFlight(
            self.redis, cache, expire_s=settings.lock_expire_s, wait_s=settings.lock_wait_s
        )

    def moderation_rules(self) -> Rules:
        """The moderation service's options now (an operator may have changed them)."""
        from services.background import registry  # it builds services from this container

        return rules_from(registry.live_config(self.redis, "moderation").options)

    def answers_flight(self, answers: JsonCache) -> Flight:
        return self.flight(answers) if self.settings.cache_enabled else UncachedAnswers()

    def uploads(self, answers: JsonCache) -> UploadIndex | None:
        """Uploads seen before, unless the caches are off or the flight is a test's fake."""
        if "identification_flight" in self.overrides or not self.settings.cache_enabled:
            return None
        return UploadIndex(answers)

    def stats_cache(self) -> Cache:
        """Redis with single-flight, and a bounded in-process fallback while Redis is away."""
        if not self.settings.cache_enabled:
            return UncachedStatistics()
        cache = self.cache("stats", ttl_s=self.settings.stats_overview_ttl_s)
        fallback = LocalCache(max_entries=self.settings.stats_fallback_entries)
        return StatsCache(cache, self.flight(cache), fallback=fallback)

    def guarded_providers(self) -> list[tuple[Provider, Breaker]]:
        """Each provider behind its breaker (shared across processes in Redis)."""
        providers = self.overrides.get("providers") or self.providers()
        given = self.overrides.get("breakers") or {}
        return [(p, given.get(p.name) or self.breaker(p.name)) for p in providers]

    def providers(self) -> list[Provider]:
        settings = self.settings
        http = [self.http_client(), self.http_client()]
        return [
            PlantIdClient(
                http[0],
                base_url=settings.plant_id_url,
                api_key=_key(settings.plant_id_api_key, "PLANT_ID"),
            ),
            PlantNetClient(
                http[1],
                base_url=settings.plantnet_url,
                api_key=_key(settings.plantnet_api_key, "PLANTNET"),
                project=settings.plantnet_project,
            ),
        ]

    def http_client(self) -> httpx.Client:
        client = http_client(
            connect_timeout_s=self.settings.provider_connect_timeout_s,
            read_timeout_s=self.settings.provider_read_timeout_s,
        )
        self.closers.append(client.close)
        return client

    def budget(self) -> QuotaBudget:
        """Each provider's rate, daily quota and pauses, shared in Redis by every process."""
        s = self.settings
        plans = {
            "plant_id": Plan(
                per_second=s.plant_id_rps,
                burst=s.plant_id_burst,
                per_day=s.plant_id_daily_limit,
                day_starts_s=s.plant_id_day_starts_s,
            ),
            "plantnet": Plan(
                per_second=s.plantnet_rps,
                burst=s.plantnet_burst,
                per_day=s.plantnet_daily_limit,
                day_starts_s=s.plantnet_day_starts_s,
            ),
        }
        shares = Shares(reserve_share=s.quota_reserve_share, high_priority=s.quota_high_priority)
        return QuotaBudget(RateLimiter(self.redis, plans), shares=shares)

    def breaker(self, provider: str) -> CircuitBreaker:
        settings = self.settings
        fail_max, reset_s = {
            "plant_id": (settings.plant_id_breaker_fail_max, settings.plant_id_breaker_reset_s),
            "plantnet": (settings.plantnet_breaker_fail_max, settings.plantnet_breaker_reset_s),
        }[provider]
        return CircuitBreaker(
            provider,
            self.redis,
            fail_max=fail_max,
            reset_timeout_s=reset_s,
            half_open_max_calls=settings.breaker_half_open_max_calls,
            trial_timeout_s=settings.provider_deadline_s + 5,  # a trial outlives its deadline
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _key(configured: str | None, name: str) -> str:
    if configured:
        return configured
    log.info(
        "%s_API_KEY unset: sandbox mode (%s_URL should point at `greenhouse sandbox`)", name, name
    )
    return SANDBOX_KEY

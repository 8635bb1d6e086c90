"""The only place real clients are built: one object graph per process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.db import make_engine, session_factory
from services.delivery.deadletters import DeadLetterStore, SqlDeadLetterStore
from services.delivery.retry import RetryPolicy
from services.delivery.spill import SpillingDeadLetterStore
from services.health import Heartbeat
from services.identification.plantid import PlantIdClient
from services.identification.plantnet import PlantNetClient
from services.identification.pool import provider_pool
from services.identification.providers import http_client
from services.identification.records import SqlIdentificationRecords
from services.identification.service import IdentificationService
from services.resilience.breaker import CircuitBreaker
from services.resilience.cache import JsonCache, LocalCache
from services.resilience.lock import SingleFlight
from services.settings import Settings
from services.statistics.cache import StatsCache
from services.statistics.service import StatisticsService, Ttls
from services.statistics.sql import SqlForumRepository, SqlIdentificationRepository

log = logging.getLogger(__name__)
SANDBOX_KEY = "sandbox"  # any key works against the sandbox; a real API rejects it


@dataclass(kw_only=True)
class Container:
    """Everything a task may call, wired once per process."""

    settings: Settings
    redis: redis.Redis
    engine: Engine
    dead_letters: DeadLetterStore
    heartbeat: Heartbeat
    retry_policy: RetryPolicy
    identification: IdentificationService
    statistics: StatisticsService
    http: list[httpx.Client]

    def close(self) -> None:
        for client in self.http:
            client.close()
        self.redis.close()
        self.engine.dispose()


def redis_client(url: str, settings: Settings) -> redis.Redis:
    """A Redis client with timeouts, keepalive and idle-connection health checks."""
    return redis.Redis.from_url(
        url,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        socket_keepalive=True,
        health_check_interval=settings.redis_health_check_interval_s,
    )


def dead_letter_store(settings: Settings, engine: Engine | None = None) -> SqlDeadLetterStore:
    """The dead-letter table alone (the CLI needs no Redis to list it)."""
    return SqlDeadLetterStore(session_factory(engine or make_engine(settings.sqlalchemy_url)))


def bootstrap(settings: Settings, *, redis_url: str) -> Container:
    """Build the real object graph; call after fork, never at import time."""
    client = redis_client(redis_url, settings)
    cache_client = (
        redis_client(settings.cache_redis_url, settings) if settings.cache_redis_url else client
    )
    engine = make_engine(settings.sqlalchemy_url)
    sessions = session_factory(engine)
    http = [
        http_client(
            connect_timeout_s=settings.provider_connect_timeout_s,
            read_timeout_s=settings.provider_read_timeout_s,
        )
        for _ in range(2)
    ]
    return Container(
        settings=settings,
        redis=client,
        engine=engine,
        dead_letters=SpillingDeadLetterStore(
            dead_letter_store(settings, engine),
            client,
            journal=settings.var_dir / "dead-letters.jsonl",
        ),
        heartbeat=Heartbeat(client),
        retry_policy=RetryPolicy(
            base_delay_s=settings.retry_base_delay_s,
            max_delay_s=settings.retry_max_delay_s,
            max_retries=settings.retry_max_retries,
        ),
        identification=identification_service(settings, client, cache_client, sessions, http),
        statistics=statistics_service(settings, client, cache_client, sessions),
        http=http,
    )


def identification_service(
    settings: Settings,
    client: redis.Redis,
    cache_client: redis.Redis,
    sessions: sessionmaker[Session],
    http: list[httpx.Client],
) -> IdentificationService:
    """Both providers, each behind its Redis-shared breaker, behind one single-flight lock."""
    plant_id = PlantIdClient(
        http[0], base_url=settings.plant_id_url, api_key=_key(settings.plant_id_api_key, "PLANT_ID")
    )
    plantnet = PlantNetClient(
        http[1],
        base_url=settings.plantnet_url,
        api_key=_key(settings.plantnet_api_key, "PLANTNET"),
        project=settings.plantnet_project,
    )
    breakers = [
        _breaker(
            "plant_id",
            client,
            settings,
            settings.plant_id_breaker_fail_max,
            settings.plant_id_breaker_reset_s,
        ),
        _breaker(
            "plantnet",
            client,
            settings,
            settings.plantnet_breaker_fail_max,
            settings.plantnet_breaker_reset_s,
        ),
    ]
    cache = JsonCache(
        cache_client,
        namespace="identification",
        version=settings.cache_version,
        ttl_s=settings.identification_cache_ttl_s,
    )
    return IdentificationService(
        providers=list(zip([plant_id, plantnet], breakers, strict=True)),
        flight=SingleFlight(
            client, cache, expire_s=settings.lock_expire_s, wait_s=settings.lock_wait_s
        ),
        records=SqlIdentificationRecords(sessions),
        pools=lambda name: provider_pool(name, max_workers=settings.provider_pool_size),
        deadline_s=settings.provider_deadline_s,
        full_ttl_s=settings.identification_cache_ttl_s,
        partial_ttl_s=settings.identification_partial_ttl_s,
    )


def _breaker(
    name: str, client: redis.Redis, settings: Settings, fail_max: int, reset_s: float
) -> CircuitBreaker:
    return CircuitBreaker(
        name,
        client,
        fail_max=fail_max,
        reset_timeout_s=reset_s,
        half_open_max_calls=settings.breaker_half_open_max_calls,
        trial_timeout_s=settings.provider_deadline_s + 5,  # a trial outlives its deadline
    )


def statistics_service(
    settings: Settings,
    client: redis.Redis,
    cache_client: redis.Redis,
    sessions: sessionmaker[Session],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> StatisticsService:
    """Repositories over the database; a Redis cache with single-flight and a local fallback."""
    cache = JsonCache(
        cache_client,
        namespace="stats",
        version=settings.cache_version,
        ttl_s=settings.stats_overview_ttl_s,
    )
    flight = SingleFlight(
        client, cache, expire_s=settings.lock_expire_s, wait_s=settings.lock_wait_s
    )
    return StatisticsService(
        forums=SqlForumRepository(sessions),
        identifications=SqlIdentificationRepository(sessions),
        cache=StatsCache(
            cache, flight, fallback=LocalCache(max_entries=settings.stats_fallback_entries)
        ),
        ttls=Ttls(
            overview_s=settings.stats_overview_ttl_s,
            forum_s=settings.stats_forum_ttl_s,
            user_s=settings.stats_user_ttl_s,
            online_s=settings.stats_online_ttl_s,
            identification_s=settings.stats_identification_ttl_s,
        ),
    )


def _key(configured: str | None, name: str) -> str:
    if configured:
        return configured
    log.info(
        "%s_API_KEY unset: sandbox mode (%s_URL should point at `greenhouse sandbox`)", name, name
    )
    return SANDBOX_KEY

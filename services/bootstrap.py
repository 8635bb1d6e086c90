"""The only place real clients are built: one object graph per process."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from sqlalchemy import Engine

from services.db import make_engine, session_factory
from services.deadletters import DeadLetterStore, SpillingDeadLetterStore, SqlDeadLetterStore
from services.health import Heartbeat
from services.retry import RetryPolicy
from services.settings import Settings


@dataclass(kw_only=True)
class Container:
    """Everything a task may call, wired once per process."""

    settings: Settings
    redis: redis.Redis
    engine: Engine
    dead_letters: DeadLetterStore
    heartbeat: Heartbeat
    retry_policy: RetryPolicy

    def close(self) -> None:
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
    engine = make_engine(settings.sqlalchemy_url)
    return Container(
        settings=settings,
        redis=client,
        engine=engine,
        dead_letters=SpillingDeadLetterStore(dead_letter_store(settings, engine), client),
        heartbeat=Heartbeat(client),
        retry_policy=RetryPolicy(
            base_delay_s=settings.retry_base_delay_s,
            max_delay_s=settings.retry_max_delay_s,
            max_retries=settings.retry_max_retries,
        ),
    )

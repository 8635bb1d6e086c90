"""The one settings object, read from the environment with safe local defaults."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any


def _setting(env: str, default: Any, doc: str, parse: Callable[[str], Any] = str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc, "parse": parse})


def _flag(raw: str) -> bool:
    if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"expected true or false, not {raw!r}")
    return raw.lower() in ("true", "1", "yes")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every knob Greenhouse has; `Settings.from_env()` is the only reader of os.environ."""

    redis_url: str | None = _setting(
        "REDIS_URL", None, "Redis for broker, results, breakers and locks; unset = embedded server"
    )
    cache_redis_url: str | None = _setting(
        "CACHE_REDIS_URL", None, "Redis for caches (may use allkeys-lru); defaults to REDIS_URL"
    )
    broker_url: str | None = _setting(
        "BROKER_URL", None, "Broker, e.g. amqp://guest:guest@host//; defaults to REDIS_URL"
    )
    result_backend: str | None = _setting(
        "RESULT_BACKEND", None, "Celery result backend; defaults to REDIS_URL"
    )
    database_url: str | None = _setting(
        "DATABASE_URL", None, "SQLAlchemy URL; unset = SQLite at $VAR_DIR/greenhouse.db"
    )
    var_dir: Path = _setting(
        "VAR_DIR", Path("var"), "Local state: embedded Redis data, SQLite, process logs", Path
    )
    embedded_redis_port: int = _setting(
        "EMBEDDED_REDIS_PORT", 6390, "Port of the embedded Redis when REDIS_URL is unset", int
    )
    worker_pool: str = _setting(
        "WORKER_POOL",
        "prefork",
        "Worker pool: prefork (CPU work) or threads (the identification worker: it waits on HTTP)",
    )
    worker_concurrency: int = _setting(
        "WORKER_CONCURRENCY",
        0,
        "Processes (prefork) or threads per worker; 0 = one process per CPU, or 64 threads",
        int,
    )
    worker_max_memory_per_child_kb: int = _setting(
        "WORKER_MAX_MEMORY_PER_CHILD_KB", 512_000, "Pool child is replaced above this RSS", int
    )
    worker_send_task_events: bool = _setting(
        "WORKER_SEND_TASK_EVENTS",
        False,
        "Task events always; false = only while Flower (or `celery events`) asks for them",
        _flag,
    )
    task_send_sent_event: bool = _setting(
        "TASK_SEND_SENT_EVENT",
        False,
        "Producers announce every task they queue (a PUBLISH each)",
        _flag,
    )
    task_track_started: bool = _setting(
        "TASK_TRACK_STARTED",
        False,
        "Store a STARTED state when a task begins (a result write each)",
        _flag,
    )
    task_soft_time_limit_s: float = _setting(
        "TASK_SOFT_TIME_LIMIT_S", 240.0, "Soft time limit: the task gets an exception", float
    )
    task_time_limit_s: float = _setting(
        "TASK_TIME_LIMIT_S", 300.0, "Hard time limit: the pool child is killed", float
    )
    delivery_lease_s: int = _setting(
        "DELIVERY_LEASE_S",
        30,
        "Redis: a lost worker's messages are redelivered this long after its last renewal",
        int,
    )
    lease_renew_interval_s: float = _setting(
        "LEASE_RENEW_INTERVAL_S",
        5.0,
        "Redis: a worker renews the lease of what it holds (and sweeps for lapsed ones) this often",
        float,
    )
    retry_base_delay_s: float = _setting(
        "RETRY_BASE_DELAY_S", 2.0, "First retry waits up to this (full jitter)", float
    )
    retry_max_delay_s: float = _setting(
        "RETRY_MAX_DELAY_S", 600.0, "Ceiling of any retry countdown", float
    )
    retry_max_retries: int = _setting(
        "RETRY_MAX_RETRIES",
        5,
        "Transient failures retried this many times, then dead-lettered",
        int,
    )
    result_expires_s: int = _setting(
        "RESULT_EXPIRES_S", 86_400, "Task results are kept this long", int
    )
    redis_socket_timeout_s: float = _setting(
        "REDIS_SOCKET_TIMEOUT_S",
        10.0,
        "Redis read/write timeout (above any blocking wait, well under the lease)",
        float,
    )
    redis_connect_timeout_s: float = _setting(
        "REDIS_CONNECT_TIMEOUT_S", 5.0, "Redis connect timeout", float
    )
    redis_health_check_interval_s: int = _setting(
        "REDIS_HEALTH_CHECK_INTERVAL_S", 25, "PING idle Redis connections this often", int
    )
    beat_lock_timeout_s: int = _setting(
        "BEAT_LOCK_TIMEOUT_S",
        30,
        "A standby beat takes over this long (plus one loop) after the active one dies",
        int,
    )
    beat_max_loop_interval_s: float = _setting(
        "BEAT_MAX_LOOP_INTERVAL_S",
        5.0,
        "Beat wakes at least this often (under the lock timeout)",
        float,
    )
    flower_address: str = _setting("FLOWER_ADDRESS", "127.0.0.1", "Flower listen address")
    flower_port: int = _setting("FLOWER_PORT", 5555, "Flower port", int)
    flower_basic_auth: str | None = _setting(
        "FLOWER_BASIC_AUTH", None, "user:password for Flower (secret; passed by environment)"
    )
    flower_auth: str | None = _setting(
        "FLOWER_AUTH",
        None,
        "Flower OAuth: the e-mail addresses allowed (with FLOWER_AUTH_PROVIDER)",
    )
    flower_auth_provider: str | None = _setting(
        "FLOWER_AUTH_PROVIDER",
        None,
        "Flower OAuth provider class, e.g. flower.views.auth.GithubLoginHandler",
    )
    flower_cookie_secret: str | None = _setting(
        "FLOWER_COOKIE_SECRET",
        None,
        "Flower's cookie secret (secret); unset = one kept in $VAR_DIR, made on first start",
    )
    metrics_port: int = _setting(
        "METRICS_PORT", 0, "Port of a worker's Prometheus endpoint /metrics; 0 = none", int
    )
    metrics_address: str = _setting(
        "METRICS_ADDRESS", "127.0.0.1", "Listen address of a worker's /metrics"
    )
    metrics_basic_auth: str | None = _setting(
        "METRICS_BASIC_AUTH", None, "user:password for /metrics (secret); needed off loopback"
    )
    cache_enabled: bool = _setting(
        "CACHE_ENABLED",
        True,
        "false = statistics and identification answers come straight from the database and "
        "the providers, no cache read or written (the rollback switch)",
        _flag,
    )
    log_format: str = _setting(
        "LOG_FORMAT", "text", "text, or json: one object per line, with task id, name, request id"
    )
    plant_id_api_key: str | None = _setting(
        "PLANT_ID_API_KEY", None, "Plant.id v3 key (secret); unset = sandbox"
    )
    plant_id_url: str = _setting("PLANT_ID_URL", "https://plant.id/api/v3", "Plant.id v3 base URL")
    plantnet_api_key: str | None = _setting(
        "PLANTNET_API_KEY", None, "PlantNet v2 key (secret); unset = sandbox"
    )
    plantnet_url: str = _setting(
        "PLANTNET_URL", "https://my-api.plantnet.org/v2", "PlantNet v2 base URL"
    )
    plantnet_project: str = _setting("PLANTNET_PROJECT", "all", "PlantNet flora to search")
    sandbox_port: int = _setting(
        "SANDBOX_PORT", 8765, "Port of the API sandbox `up`/`demo` start when a key is missing", int
    )
    photo_max_side_px: int = _setting(
        "PHOTO_MAX_SIDE_PX", 1280, "Photos are downscaled to this longest side before upload", int
    )
    photo_jpeg_quality: int = _setting(
        "PHOTO_JPEG_QUALITY", 90, "JPEG quality of the photos sent to the providers", int
    )
    provider_connect_timeout_s: float = _setting(
        "PROVIDER_CONNECT_TIMEOUT_S", 3.0, "Connect timeout of provider HTTP calls", float
    )
    provider_read_timeout_s: float = _setting(
        "PROVIDER_READ_TIMEOUT_S", 15.0, "Read timeout of provider HTTP calls", float
    )
    provider_deadline_s: float = _setting(
        "PROVIDER_DEADLINE_S", 20.0, "A provider with no answer by then counts as failed", float
    )
    provider_pool_size: int = _setting(
        "PROVIDER_POOL_SIZE",
        0,
        "Threads (and HTTP connections) per process calling each provider; 0 = the concurrency",
        int,
    )
    plant_id_breaker_fail_max: int = _setting(
        "PLANT_ID_BREAKER_FAIL_MAX",
        3,
        "Consecutive transient failures that open Plant.id's breaker",
        int,
    )
    plant_id_breaker_reset_s: float = _setting(
        "PLANT_ID_BREAKER_RESET_S", 60.0, "Plant.id's breaker stays open this long", float
    )
    plantnet_breaker_fail_max: int = _setting(
        "PLANTNET_BREAKER_FAIL_MAX",
        5,
        "Consecutive transient failures that open PlantNet's breaker",
        int,
    )
    plantnet_breaker_reset_s: float = _setting(
        "PLANTNET_BREAKER_RESET_S", 30.0, "PlantNet's breaker stays open this long", float
    )
    plant_id_rps: float = _setting(
        "PLANT_ID_RPS", 0.0, "Plant.id calls a second across all processes; 0 = no limit", float
    )
    plant_id_burst: int = _setting(
        "PLANT_ID_BURST", 1, "Plant.id calls that may go at once after a quiet spell", int
    )
    plant_id_daily_limit: int = _setting(
        "PLANT_ID_DAILY_LIMIT",
        0,
        "Plant.id calls a day; 0 = as its usage_info says (read by quota-reporter)",
        int,
    )
    plant_id_day_starts_s: float = _setting(
        "PLANT_ID_DAY_STARTS_S", 0.0, "Seconds after 00:00 UTC when Plant.id's day resets", float
    )
    plantnet_rps: float = _setting(
        "PLANTNET_RPS", 0.0, "PlantNet calls a second across all processes; 0 = no limit", float
    )
    plantnet_burst: int = _setting(
        "PLANTNET_BURST", 1, "PlantNet calls that may go at once after a quiet spell", int
    )
    plantnet_daily_limit: int = _setting(
        "PLANTNET_DAILY_LIMIT",
        0,
        "PlantNet identifications a day; 0 = as its RateLimit-Policy header says",
        int,
    )
    plantnet_day_starts_s: float = _setting(
        "PLANTNET_DAY_STARTS_S", 0.0, "Seconds after 00:00 UTC when PlantNet's day resets", float
    )
    quota_reserve_share: float = _setting(
        "QUOTA_RESERVE_SHARE", 0.2, "Share of each daily quota kept for high priorities", float
    )
    quota_high_priority: int = _setting(
        "QUOTA_HIGH_PRIORITY", 7, "Priority (0-9) from which a request may spend the reserve", int
    )
    throttle_wait_s: float = _setting(
        "THROTTLE_WAIT_S", 2.0, "Longest a provider call waits for its rate slot", float
    )
    throttle_default_pause_s: float = _setting(
        "THROTTLE_DEFAULT_PAUSE_S",
        5.0,
        "A 429 without Retry-After pauses its provider this long",
        float,
    )
    breaker_half_open_max_calls: int = _setting(
        "BREAKER_HALF_OPEN_MAX_CALLS", 1, "Trial calls allowed at once, across all processes", int
    )
    lock_expire_s: int = _setting(
        "LOCK_EXPIRE_S", 30, "Single-flight lock expiry (renewed while held)", int
    )
    lock_wait_s: float = _setting(
        "LOCK_WAIT_S", 15.0, "Longest wait for another process's identical request", float
    )
    cache_version: int = _setting(
        "CACHE_VERSION", 1, "Part of every cache key; bump it to orphan all cached values", int
    )
    identification_cache_ttl_s: int = _setting(
        "IDENTIFICATION_CACHE_TTL_S", 86_400, "A complete identification is cached this long", int
    )
    identification_partial_ttl_s: int = _setting(
        "IDENTIFICATION_PARTIAL_TTL_S", 300, "A partial one (a provider failed) this long", int
    )
    stats_overview_ttl_s: int = _setting(
        "STATS_OVERVIEW_TTL_S", 300, "forum_overview stays cached this long", int
    )
    stats_forum_ttl_s: int = _setting("STATS_FORUM_TTL_S", 120, "forum_detail cache lifetime", int)
    stats_user_ttl_s: int = _setting("STATS_USER_TTL_S", 300, "user_summary cache lifetime", int)
    stats_online_ttl_s: int = _setting(
        "STATS_ONLINE_TTL_S", 30, "Online-user counts cache lifetime", int
    )
    stats_identification_ttl_s: int = _setting(
        "STATS_IDENTIFICATION_TTL_S", 60, "identification_summary cache lifetime", int
    )
    stats_fallback_entries: int = _setting(
        "STATS_FALLBACK_ENTRIES", 1024, "In-process cache size while Redis is unreachable", int
    )
    record_retention_days: int = _setting(
        "RECORD_RETENTION_DAYS", 90, "Identification records are deleted this long after", int
    )
    dead_letter_retention_days: int = _setting(
        "DEAD_LETTER_RETENTION_DAYS", 30, "A dead letter never replayed is kept this long", int
    )
    dead_letter_replayed_retention_days: int = _setting(
        "DEAD_LETTER_REPLAYED_RETENTION_DAYS", 7, "A replayed one, this long after its replay", int
    )
    health_history_retention_days: int = _setting(
        "HEALTH_HISTORY_RETENTION_DAYS", 7, "Health samples are trimmed this long after", int
    )
    worker_heartbeat_interval_s: float = _setting(
        "WORKER_HEARTBEAT_INTERVAL_S", 10.0, "A worker rewrites its heartbeat key this often", float
    )
    worker_heartbeat_ttl_s: int = _setting(
        "WORKER_HEARTBEAT_TTL_S",
        30,
        "A worker's heartbeat key lapses this long after its last write (then it counts as dead)",
        int,
    )
    log_level: str = _setting(
        "LOG_LEVEL", "INFO", "Log level of the CLI and the processes `up`/`demo` start"
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default os.environ); empty values count as unset."""
        source = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = source.get(f.metadata["env"], "")
            if raw.strip():
                values[f.name] = f.metadata["parse"](raw.strip())
        return cls(**values)

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'greenhouse.db').resolve()}"

    @property
    def redis_url_or_embedded(self) -> str:
        """REDIS_URL, else where the local kit's embedded server listens (started elsewhere)."""
        return self.redis_url or local_redis_url(self.embedded_redis_port)

    @property
    def threads_per_process(self) -> int:
        """Tasks one worker process runs at once: its threads, or 1 for a prefork child."""
        if self.worker_pool in ("prefork", "solo"):
            return 1
        return self.worker_concurrency or DEFAULT_THREADS

    @property
    def pool_concurrency(self) -> int | None:
        """Celery's worker_concurrency: as set, else 64 threads, else (None) a process per CPU."""
        return self.worker_concurrency or (
            None if self.worker_pool == "prefork" else DEFAULT_THREADS
        )

    @property
    def secrets(self) -> list[str]:
        """Values no log line may show (keys, passwords, the cookie secret)."""
        passwords = [
            c.partition(":")[2] for c in (self.flower_basic_auth, self.metrics_basic_auth) if c
        ]
        keys = [self.plant_id_api_key, self.plantnet_api_key, self.flower_cookie_secret]
        return [value for value in (*keys, *passwords) if value]

    @property
    def sandbox_mode(self) -> bool:
        """True when a provider has no key, so `up`/`demo` start the API sandbox."""
        return not (self.plant_id_api_key and self.plantnet_api_key)


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})  # addresses only this host reaches
DEFAULT_THREADS = 64  # a threads worker's concurrency when WORKER_CONCURRENCY is 0


def local_redis_url(port: int) -> str:
    """The embedded Redis server's URL on this host."""
    return f"redis://127.0.0.1:{port}/0"


def documented() -> Iterator[tuple[str, Any, str]]:
    """(variable, default, description) for every setting, for the README table."""
    for f in fields(Settings):
        yield f.metadata["env"], f.default, f.metadata["doc"]


@cache
def load() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()

"""Statistics: statements per call, uncached cost at a million posts, cached reads, hit ratio,
and the hit ratio of a steady load without and with the warmer."""

from __future__ import annotations

from bench import statistics_load, statistics_queries, statistics_scale, statistics_warmer
from bench.common import Row
from bench.statistics_support import Database, postgres_database, sqlite_database
from harness.postgres import reachable as postgres_reachable

OVERVIEW_GOAL_MS = 2_000


def run(redis_url: str) -> list[Row]:
    """Every statistics figure, measured side by side in one run (about eight minutes)."""
    postgres: Database | None = postgres_database if postgres_reachable() else None
    databases: dict[str, Database] = {"SQLite": sqlite_database}
    if postgres:
        databases["PostgreSQL"] = postgres
    rows = statistics_queries.run(databases)
    rows += statistics_scale.run("PostgreSQL", postgres, redis_url, goal_ms=OVERVIEW_GOAL_MS)
    rows += statistics_scale.run("SQLite", sqlite_database, redis_url, goal_ms=None)
    rows += statistics_load.run(redis_url)
    rows += statistics_warmer.run(redis_url)
    return rows

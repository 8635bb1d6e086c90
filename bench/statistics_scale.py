"""forum_overview with nothing cached, over a million posts: the full SQL work behind it."""

from __future__ import annotations

import statistics
import time

from bench.common import Row
from bench.statistics_support import Database, seeded, service_over
from services.statistics.service import StatisticsService

SIZES = {"users": 20_000, "forums": 200, "topics": 100_000, "posts": 1_000_000}
ROUNDS = 5


def run(
    backend: str, database: Database | None, redis_url: str, *, goal_ms: float | None
) -> list[Row]:
    """Seed `database` at SIZES, then time ROUNDS uncached forum_overview() calls."""
    data = ", ".join(f"{n:,} {table}" for table, n in reversed(SIZES.items()))
    name = f"forum_overview uncached, {data}, {backend} (ms, median of {ROUNDS}; min-max)"
    goal = f"< {goal_ms:,.0f}" if goal_ms is not None else ""
    if database is None:
        return [Row(name, f"not measured: {backend} unreachable", goal, None)]
    with seeded(database, **SIZES) as (engine, report), service_over(engine, redis_url) as service:
        samples = [_uncached_ms(service) for _ in range(ROUNDS)]
    median = statistics.median(samples)
    met = None if goal_ms is None else median < goal_ms
    return [
        Row(name, f"{median:.0f} ({min(samples):.0f}-{max(samples):.0f})", goal, met),
        Row(
            f"seeding that database with seed(), {backend} (s, context)", f"{report.elapsed_s:.0f}"
        ),
    ]


def _uncached_ms(service: StatisticsService) -> float:
    service.invalidate("overview")  # outside the timing: a miss is what is measured
    started = time.perf_counter()
    result = service.forum_overview()
    elapsed_ms = (time.perf_counter() - started) * 1000
    if result.cached:  # the figure would not be what it claims
        raise RuntimeError("forum_overview came from the cache after invalidate('overview')")
    return elapsed_ms

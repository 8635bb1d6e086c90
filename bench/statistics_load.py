"""Reads through the real service on real Redis: cached latency, hit ratio under a mixed load."""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from itertools import accumulate

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import InstrumentedAttribute

from bench.common import Row
from bench.statistics_support import SEED, seeded, service_over, sqlite_database, ttls_label
from services.statistics.models import Post
from services.statistics.service import Statistic, StatisticsService

SIZES = {"users": 2_000, "forums": 100, "topics": 10_000, "posts": 100_000}
LATENCY_CALLS = 2_000
REQUESTS = 1_000
DURATION_S = 60.0
FORUM_SKEW = 1.0  # Zipf: the busiest forum is read twice as often as the second
ACTIVE_USERS = 200
MIX = {"forum_detail": 60, "forum_overview": 20, "user_summary": 15, "identification_summary": 5}
CHOICE = {
    "forum_detail": f"Zipf s=1 over {SIZES['forums']} forums ranked by posts",
    "user_summary": f"uniform over the {ACTIVE_USERS} users with most posts",
}
Request = tuple[str, int]


def run(redis_url: str) -> list[Row]:
    """Both figures over one SQLite database with 100 forums, each on its own cold cache."""
    with seeded(sqlite_database, **SIZES) as (engine, _):
        with service_over(engine, redis_url) as service:
            rows = _cached_latency(service)
        with service_over(engine, redis_url) as service:
            rows += _hit_ratio(service, plan(engine))
    return rows


def _cached_latency(service: StatisticsService) -> list[Row]:
    service.forum_overview()  # fills both keys it reads (totals and online users)
    samples, misses = [], 0
    for _ in range(LATENCY_CALLS):
        started = time.perf_counter()
        result = service.forum_overview()
        samples.append((time.perf_counter() - started) * 1000)
        misses += not result.cached
    p50 = statistics.median(samples)
    p99 = statistics.quantiles(samples, n=100)[98]
    name = f"forum_overview cached, real service on real Redis (ms over {LATENCY_CALLS:,} calls"
    name += f"; {misses} were misses)" if misses else ")"
    return [
        Row(f"{name}: p50", f"{p50:.3f}", "< 2", p50 < 2),
        Row(f"{name}: p99", f"{p99:.3f}"),
    ]


def plan(engine: Engine, *, requests: int = REQUESTS) -> list[Request]:
    """`requests` reads in MIX proportions; forums Zipf-skewed by activity, active users uniform."""
    rng = random.Random(SEED)
    forums = _busiest(engine, Post.forum_id, limit=SIZES["forums"])
    users = _busiest(engine, Post.user_id, limit=ACTIVE_USERS)
    weights = list(accumulate(rank**-FORUM_SKEW for rank in range(1, len(forums) + 1)))
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=requests)
    args = {
        "forum_detail": lambda: rng.choices(forums, cum_weights=weights)[0],
        "user_summary": lambda: rng.choice(users),
    }
    return [(kind, args[kind]() if kind in args else 0) for kind in kinds]


def _busiest(engine: Engine, column: InstrumentedAttribute[int], *, limit: int) -> list[int]:
    query = select(column).group_by(column).order_by(func.count().desc(), column).limit(limit)
    with engine.connect() as connection:
        return [int(value) for value in connection.execute(query).scalars()]


def _hit_ratio(service: StatisticsService, plan: list[Request]) -> list[Row]:
    calls: dict[str, Callable[[int], Statistic]] = {
        "forum_detail": service.forum_detail,
        "forum_overview": lambda _: service.forum_overview(),
        "user_summary": service.user_summary,
        "identification_summary": lambda _: service.identification_summary(),
    }
    seen, hits = Counter[str](), Counter[str]()
    interval_s = DURATION_S / len(plan)
    started = time.perf_counter()
    for index, (kind, arg) in enumerate(plan):
        # A fixed schedule, not back-to-back: TTLs expire in real time, as they would in production.
        time.sleep(max(0.0, started + index * interval_s - time.perf_counter()))
        seen[kind] += 1
        hits[kind] += calls[kind](arg).cached
    elapsed_s = time.perf_counter() - started
    load = f"{len(plan):,} mixed reads over {elapsed_s:.0f} s from a cold cache"
    load += f", SQLite with {SIZES['posts']:,} posts ({ttls_label()})"
    rows = [Row(f"hit ratio, {load}", _ratio(hits.total(), seen.total()))]
    for kind, share in MIX.items():
        how = f"; {CHOICE[kind]}" if kind in CHOICE else ""
        rows.append(
            Row(f"hit ratio of {kind} ({share}% of reads{how})", _ratio(hits[kind], seen[kind]))
        )
    return rows


def _ratio(hits: int, total: int) -> str:
    return f"{hits / total:.1%} ({hits}/{total})" if total else "no reads"

"""The statistics warmer on real Redis over a seeded SQLite file: the cache's side (what is due,
refreshing in place, under single flight and fencing), then a real worker running
`services.run name=stats-warmer` while this process reads steadily, without and with it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from celery.result import AsyncResult
from sqlalchemy import Engine

from harness.observe import eventually
from harness.sql import counting
from harness.workers import Workers
from localkit.seed import seed
from services import db
from services.background.config import ConfigStore
from services.background.registry import default_config
from services.bootstrap import bootstrap, redis_client
from services.resilience.cache import JsonCache
from services.resilience.lock import RenewingLock, SingleFlight
from services.settings import Settings
from services.statistics.service import StatisticsService
from tasks.app import app

TTLS = ("overview", "forum", "user", "online", "identification")
STEADY_TTL_S = 3  # every statistic, in the worker's environment and in this process
READ_EVERY_S = 0.06  # each of the ten reads below comes round about every 0.6 s
READS = [("overview", 0), ("identification", 0)]
READS += [("forum", n) for n in (1, 2, 3)] + [("user", n) for n in (1, 2, 3, 4, 5)]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The test's database (the workers' too), seeded with a small forum."""
    engine = db.make_engine(database_url)
    seed(engine, users=20, forums=4, topics=30, posts=200, seed=5)
    yield engine
    engine.dispose()


def _service(engine: Engine, redis_url: str, **ttls: int) -> StatisticsService:
    """bootstrap's real wiring over `engine`; TTLs in seconds by name (100 s when not given)."""
    lifetimes = {f"stats_{name}_ttl_s": ttls.get(name, 100) for name in TTLS}
    settings = Settings(redis_url=redis_url, **lifetimes)  # type: ignore[arg-type]
    return bootstrap(settings, engine=engine).statistics


def test_the_statistics_due_are_those_read_lately_that_end_within_the_lead_soonest_first(
    engine: Engine, redis_url: str, redis_client: redis.Redis
) -> None:
    service = _service(engine, redis_url, online=4, forum=8)
    service.forum_overview(), service.forum_detail(1), service.user_summary(2)
    due = service.expiring(read_within_s=60, lead_s=10, limit=100)
    assert sorted(due[:2]) == ["forum:1:online", "overview:online"] and due[2:] == ["forum:1"]
    assert len(service.expiring(read_within_s=60, lead_s=10, limit=1)) == 1

    assert service.expiring(read_within_s=0, lead_s=1000, limit=100) == []  # none read since
    assert redis_client.zcard("greenhouse:v1:stats-reads") == 0  # and they left the log
    assert service.invalidate("all").values["count"] == 5  # the log is no statistic


def test_a_refresh_recomputes_in_place_with_a_full_lifetime_and_the_next_read_hits(
    engine: Engine, redis_url: str, redis_client: redis.Redis
) -> None:
    service = _service(engine, redis_url, forum=60)
    before = service.forum_detail(1).values
    redis_client.pexpire("greenhouse:v1:stats:forum:1", 500)  # about to end
    with counting(engine) as statements:
        assert service.refresh("forum:1")
    assert len(statements) == 1  # forum_totals: one statement
    assert redis_client.pttl("greenhouse:v1:stats:forum:1") > 50_000
    with counting(engine) as statements:
        after = service.forum_detail(1)
    assert after.cached and statements == []
    assert {k: v for k, v in after.values.items() if k != "computed_at"} == {
        k: v for k, v in before.items() if k != "computed_at"
    }


def test_a_statistic_a_reader_is_computing_is_left_to_it(
    engine: Engine, redis_url: str, redis_client: redis.Redis
) -> None:
    service = _service(engine, redis_url)
    held = RenewingLock(redis_client, "greenhouse:singleflight:user:3", expire=30)
    assert held.acquire(blocking=False)  # as a reader's single flight holds it while computing
    try:
        with counting(engine) as statements:
            assert service.refresh("user:3") is False
        assert statements == []
    finally:
        held.release()
    assert service.refresh("user:3")


def test_a_late_refresh_never_replaces_a_newer_answer(redis_url: str) -> None:
    client = redis_client(redis_url, Settings())
    cache = JsonCache(client, namespace="stats", version=1, ttl_s=60)
    flight = SingleFlight(client, cache)

    def late() -> dict[str, str]:
        # Meanwhile (this refresh's lock lapsed, say) a newer holder stored its answer.
        seconds, microseconds = client.time()
        cache.set_fenced("overview", {"by": "newer"}, token=seconds * 10**6 + microseconds)
        return {"by": "late"}

    assert flight.refresh("overview", late)
    assert cache.get("overview") == {"by": "newer"}


@contextmanager
def _beat(every_s: float) -> Iterator[list[AsyncResult]]:
    """Sends `services.run name=stats-warmer` every `every_s`, as beat would; the runs sent."""
    sent: list[AsyncResult] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0 if not sent else every_s):
            sent.append(app.send_task("services.run", kwargs={"name": "stats-warmer"}))

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield sent
    finally:
        stop.set()
        thread.join()


def _steady_reads(service: StatisticsService, count: int) -> float:
    """`count` reads going round READS on a fixed schedule; the share that were hits."""
    calls: dict[str, Any] = {
        "overview": lambda _: service.forum_overview(),
        "identification": lambda _: service.identification_summary(),
        "forum": service.forum_detail,
        "user": service.user_summary,
    }
    hits, tick = 0, threading.Event()
    for index in range(count):
        kind, arg = READS[index % len(READS)]
        hits += calls[kind](arg).cached
        tick.wait(READ_EVERY_S)  # a steady pace: statistics end between reads, as in production
    return hits / count


def test_the_warmer_keeps_a_steady_read_load_at_95_percent_hits_or_more(
    workers: Workers, engine: Engine, redis_url: str, redis_client: redis.Redis
) -> None:
    ttls = {name: STEADY_TTL_S for name in TTLS}
    env = {f"STATS_{name.upper()}_TTL_S": str(STEADY_TTL_S) for name in TTLS}
    workers.start(queues="maintenance", env=env)
    options = {"interval_s": 1.0, "lead_s": 2.5, "read_within_s": 30.0}
    ConfigStore(redis_client).set(default_config("stats-warmer"), options)
    service = _service(engine, redis_url, **ttls)

    _steady_reads(service, len(READS))  # a cold cache's first reads: no warmer avoids those
    without = _steady_reads(service, 200)  # about four lifetimes of every statistic
    with _beat(every_s=1.0) as runs:
        eventually(lambda: runs and runs[0].ready(), what="the warmer's first run")
        warmed = _steady_reads(service, 200)
    reports = [run.get(timeout=30) for run in runs]

    assert without < 0.95  # each statistic misses once a lifetime
    assert warmed >= 0.95, f"{warmed:.1%} hits with the warmer ({without:.1%} without)"
    assert all(report["ok"] or report["skipped"] for report in reports), reports
    assert sum(report["items"] for report in reports) >= 14  # the fourteen statistics read

"""The statistics service as wired in production, on a real Redis and a seeded SQLite file."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from harness.servers import start_embedded_redis
from localkit.seed import seed
from services import db
from services.bootstrap import bootstrap, redis_client
from services.resilience.cache import JsonCache, LocalCache
from services.resilience.lock import SingleFlight
from services.settings import Settings
from services.statistics.cache import StatsCache
from services.statistics.repositories import SiteTotals
from services.statistics.service import StatisticsService
from services.statistics.sql import SqlForumRepository, SqlIdentificationRepository

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    seed(engine, users=40, forums=6, topics=80, posts=600, seed=3, now=NOW)
    return engine


def _service(engine: Engine, redis_url: str, **settings: object) -> StatisticsService:
    """bootstrap's real wiring, over the seeded database, at a fixed time."""
    config = Settings(redis_url=redis_url, **settings)  # type: ignore[arg-type]
    return bootstrap(config, engine=engine, clock=lambda: NOW).statistics


def test_a_second_call_is_a_cache_hit_with_the_same_figures(engine: Engine, redis_url: str) -> None:
    service = _service(engine, redis_url)
    first, second = service.forum_overview(), service.forum_overview()
    assert (first.cached, second.cached) == (False, True)
    assert first.values == second.values


def test_invalidate_drops_exactly_its_scope(engine: Engine, redis_url: str) -> None:
    service = _service(engine, redis_url)
    service.forum_overview(), service.forum_detail(1), service.forum_detail(2)
    service.user_summary(1), service.identification_summary(7)
    dropped = service.invalidate("forum:1").values["invalidated"]
    assert dropped == ["greenhouse:v1:stats:forum:1", "greenhouse:v1:stats:forum:1:online"]
    assert not service.forum_detail(1).cached
    assert all(
        s.cached
        for s in (
            service.forum_detail(2),
            service.user_summary(1),
            service.forum_overview(),
            service.identification_summary(7),
        )
    )
    assert (
        service.invalidate("all").values["count"] == 8
    )  # overview, forum 1 and 2 (each with its online count), user 1, identification


def test_bumping_the_cache_version_misses(engine: Engine, redis_url: str) -> None:
    _service(engine, redis_url).user_summary(2)
    assert _service(engine, redis_url).user_summary(2).cached
    assert not _service(engine, redis_url, cache_version=2).user_summary(2).cached


class SlowForums(SqlForumRepository):
    """The real repository, slowed down and counting site_totals calls."""

    calls = 0

    def site_totals(self) -> SiteTotals:
        SlowForums.calls += 1
        time.sleep(0.3)
        return super().site_totals()


def test_a_cold_key_under_load_is_computed_once(engine: Engine, redis_url: str) -> None:
    client = redis_client(redis_url, Settings())
    cache = JsonCache(client, namespace="stats", version=1, ttl_s=60)
    service = StatisticsService(
        forums=SlowForums(db.session_factory(engine)),
        identifications=SqlIdentificationRepository(db.session_factory(engine)),
        cache=StatsCache(cache, SingleFlight(client, cache), fallback=LocalCache()),
        clock=lambda: NOW,
    )
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: service.forum_overview(), range(20)))
    assert SlowForums.calls == 1
    assert len({r.values["approved_posts"] for r in results}) == 1


def test_with_redis_stopped_answers_stay_correct_from_the_fallback(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    server = start_embedded_redis()  # private: this test stops it
    try:
        service = _service(engine, server.url, redis_socket_timeout_s=3.0)
        truth = SqlForumRepository(db.session_factory(engine)).site_totals()
        assert service.forum_overview().values["approved_posts"] == truth.approved_posts
        server.stop()
        with caplog.at_level(logging.WARNING):
            during = service.forum_overview()
            again = service.forum_overview()
        assert during.values["approved_posts"] == truth.approved_posts
        assert (during.cached, again.cached) == (False, True)  # the in-process fallback
        assert "Redis unreachable" in caplog.text
        assert service._cache.counters.fallbacks >= 2
    finally:
        server.stop()

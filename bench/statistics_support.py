"""Plumbing for the statistics benchmark: throw-away databases and the real service over them."""

from __future__ import annotations

import contextlib
import dataclasses
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Engine

from harness.postgres import scratch_database
from localkit.seed import SeedReport, seed
from services import db
from services.bootstrap import bootstrap
from services.settings import Settings
from services.statistics.service import StatisticsService

SEED = 20_261_120  # the same forum every run, so figures compare across runs
Database = Callable[[], AbstractContextManager[str]]


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    """A migrated SQLite file in a temporary directory, removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="greenhouse-bench-stats-"))
    url = f"sqlite:///{workdir / 'stats.db'}"
    try:
        db.upgrade(url)
        yield url
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A migrated scratch PostgreSQL database, dropped afterwards."""
    with scratch_database() as url:
        db.upgrade(url)
        yield url


@contextlib.contextmanager
def seeded(
    database: Database, *, users: int, forums: int, topics: int, posts: int
) -> Iterator[tuple[Engine, SeedReport]]:
    """An engine over a fresh database seeded with seed(); disposed before the database goes."""
    with database() as url:
        engine = db.make_engine(url)
        try:
            report = seed(engine, users=users, forums=forums, topics=topics, posts=posts, seed=SEED)
            yield engine, report
        finally:
            engine.dispose()


@contextlib.contextmanager
def service_over(engine: Engine, redis_url: str) -> Iterator[StatisticsService]:
    """The real service (bootstrap's wiring) over `engine`, caching in Redis under a new version."""
    settings = dataclasses.replace(
        Settings.from_env(),
        redis_url=redis_url,
        # Never used before: nothing can come from an earlier run's (or section's) cache.
        cache_version=random.randrange(10**6, 2**31),
    )
    container = bootstrap(settings, engine=engine)
    try:
        yield container.statistics
    finally:
        container.close()


def ttls_label() -> str:
    """The cache lifetimes in force, for row names."""
    s = Settings.from_env()
    return (
        f"TTLs overview {s.stats_overview_ttl_s} s, forum {s.stats_forum_ttl_s} s, "
        f"user {s.stats_user_ttl_s} s, online {s.stats_online_ttl_s} s, "
        f"identification {s.stats_identification_ttl_s} s"
    )

"""SQL statements per repository call, at 10 and at 1,000 forums and users."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bench.common import Row
from bench.statistics_support import Database, seeded
from harness.sql import counting
from services import db
from services.statistics.sql import SqlForumRepository, SqlIdentificationRepository

SIZES = (10, 1_000)


def run(databases: Mapping[str, Database]) -> list[Row]:
    """One row per call: the counts at each size, per database, side by side."""
    counts = {
        name: [_counts(database, size) for size in SIZES] for name, database in databases.items()
    }
    sizes = " vs ".join(f"{size:,}" for size in SIZES)
    rows = []
    for call in next(iter(counts.values()))[0]:
        per_db = {name: [at_size[call] for at_size in runs] for name, runs in counts.items()}
        value = " · ".join(f"{name} {' / '.join(map(str, n))}" for name, n in per_db.items())
        equal = all(len(set(n)) == 1 for n in per_db.values())
        label = f"SQL statements per call at {sizes} forums and users: {call}"
        rows.append(Row(label, value, "equal", equal))
    return rows


def _counts(database: Database, size: int) -> dict[str, int]:
    sizes = {"users": size, "forums": size, "topics": size * 2, "posts": size * 6}
    with seeded(database, **sizes) as (engine, report):
        counts = {}
        for name, call in _calls_over(engine, report.now).items():
            call()  # warm-up: connection checkout and SQLite's per-connection PRAGMAs
            with counting(engine) as statements:
                call()
            counts[name] = len(statements)
        return counts


def _calls_over(engine: Engine, now: datetime) -> dict[str, Callable[[], object]]:
    """The repository calls behind each statistic, as the service makes them."""
    forums = SqlForumRepository(db.session_factory(engine))
    identifications = SqlIdentificationRepository(db.session_factory(engine))
    week = now - timedelta(days=7)
    middle = 3  # an id present at both sizes
    return {
        "site_totals": forums.site_totals,
        "online_users (site)": lambda: forums.online_users(since=now - timedelta(minutes=15)),
        "online_users (forum)": lambda: forums.online_users(
            since=now - timedelta(minutes=15), forum_id=middle
        ),
        "forum_totals": lambda: forums.forum_totals(middle, since=week),
        "user_totals": lambda: forums.user_totals(middle),
        "identification totals": lambda: identifications.totals(since=week),
    }

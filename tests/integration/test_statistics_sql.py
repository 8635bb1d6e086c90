"""Every statistic on a seeded database (SQLite and PostgreSQL) against the raw rows."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

import services.statistics.models  # noqa: F401  (the tables on Base.metadata)
from localkit.seed import seed
from services import db
from services.identification.records import IdentificationRecord, SqlIdentificationRecords
from services.statistics.sql import SqlForumRepository, SqlIdentificationRepository

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    """A migrated database of each kind."""
    engine = db.make_engine(any_database_url)
    yield engine
    engine.dispose()


def _rows(engine: Engine, table: str) -> list[dict[str, Any]]:
    """Every row of `table`, typed, with no filtering or aggregation in SQL."""
    with engine.connect() as connection:
        query = sa.select(db.Base.metadata.tables[table])
        rows = [dict(row._mapping) for row in connection.execute(query)]
    for row in rows:  # SQLite hands back naive datetimes
        for key, value in row.items():
            if isinstance(value, datetime) and value.tzinfo is None:
                row[key] = value.replace(tzinfo=UTC)
    return rows


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine, users=60, forums=8, topics=150, posts=1500, seed=7, now=NOW)
    return engine


def test_site_totals_match_the_raw_rows(seeded: Engine) -> None:
    users, topics, posts = (_rows(seeded, t) for t in ("users", "topics", "posts"))
    totals = SqlForumRepository(db.session_factory(seeded)).site_totals()
    assert totals.active_users == sum(u["is_active"] for u in users)
    assert totals.approved_topics == sum(t["approved"] for t in topics)
    assert totals.approved_posts == sum(p["approved"] for p in posts)
    newest = max(users, key=lambda u: (u["created_at"], u["id"]))
    assert totals.latest_member and totals.latest_member.id == newest["id"]
    assert totals.latest_member.joined_at == newest["created_at"]


def test_online_users_match_the_raw_rows(seeded: Engine) -> None:
    users = _rows(seeded, "users")
    since = NOW - timedelta(minutes=15)
    repository = SqlForumRepository(db.session_factory(seeded))
    online = [u for u in users if u["last_seen_at"] and u["last_seen_at"] >= since]
    assert online and repository.online_users(since=since) == len(online)
    forum = online[0]["last_seen_forum_id"]
    in_forum = sum(1 for u in online if u["last_seen_forum_id"] == forum)
    assert repository.online_users(since=since, forum_id=forum) == in_forum


def test_every_forum_s_totals_match_the_raw_rows(seeded: Engine) -> None:
    forums, topics, posts = (_rows(seeded, t) for t in ("forums", "topics", "posts"))
    repository = SqlForumRepository(db.session_factory(seeded))
    week = NOW - timedelta(days=7)
    for forum in forums:
        totals = repository.forum_totals(forum["id"], since=week)
        mine = [p for p in posts if p["forum_id"] == forum["id"] and p["approved"]]
        assert totals is not None and totals.name == forum["name"]
        assert totals.topics == sum(t["forum_id"] == forum["id"] and t["approved"] for t in topics)
        assert totals.posts == len(mine)
        assert totals.posts_since == sum(p["created_at"] >= week for p in mine)
    assert repository.forum_totals(10_000, since=week) is None


def test_every_user_s_totals_match_the_raw_rows(seeded: Engine) -> None:
    users, topics, posts = (_rows(seeded, t) for t in ("users", "topics", "posts"))
    repository = SqlForumRepository(db.session_factory(seeded))
    for user in users:
        totals = repository.user_totals(user["id"])
        activity = [r["created_at"] for r in posts + topics if r["user_id"] == user["id"]]
        assert totals is not None and totals.username == user["username"]
        assert totals.posts == sum(p["user_id"] == user["id"] and p["approved"] for p in posts)
        assert totals.topics == sum(t["user_id"] == user["id"] and t["approved"] for t in topics)
        assert totals.first_activity == (min(activity) if activity else None)
        assert totals.last_activity == (max(activity) if activity else None)
    assert repository.user_totals(10_000) is None


def _record(
    n: int, *, days_ago: int, cached: bool, species: str, plantnet: str
) -> IdentificationRecord:
    return IdentificationRecord(
        idempotency_key=f"task:{n}",
        request_id=None,
        image_sha256=f"{n:064x}",
        top_species=species,
        is_plant=True,
        plant_id_status="ok",
        plantnet_status=plantnet,
        cached=cached,
        latency_ms=10.0,
        created_at=NOW - timedelta(days=days_ago, hours=n % 5),
    )


def test_identification_totals_match_the_raw_rows(engine: Engine) -> None:
    records = SqlIdentificationRecords(engine)
    species = ["Bellis perennis", "Quercus robur", "Rosa canina"]
    for n in range(40):
        records.add(
            _record(
                n,
                days_ago=n % 10,
                cached=n % 4 == 0,
                species=species[n % 3 if n % 2 else 0],
                plantnet="ok" if n % 3 else "failed",
            )
        )
    rows = _rows(engine, "identifications")
    since = NOW - timedelta(days=7)
    totals = SqlIdentificationRepository(db.session_factory(engine)).totals(since=since, top=2)
    recent = [r for r in rows if r["created_at"] >= since]
    fresh = [r for r in recent if not r["cached"]]
    assert totals.total == len(recent)
    assert totals.cache_hits == sum(r["cached"] for r in recent)
    assert totals.per_day == dict(
        sorted(Counter(r["created_at"].date().isoformat() for r in recent).items())
    )
    assert totals.providers["plantnet"].ok == sum(r["plantnet_status"] == "ok" for r in fresh)
    assert totals.providers["plantnet"].attempted == len(fresh)
    expected = sorted(
        Counter(r["top_species"] for r in recent).items(), key=lambda kv: (-kv[1], kv[0])
    )
    assert totals.top_species == expected[:2]

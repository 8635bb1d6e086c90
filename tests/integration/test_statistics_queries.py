"""Statements per call do not grow with the data; lazy loads raise instead of N+1 queries."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from harness.sql import counting
from localkit.seed import seed
from services import db
from services.statistics.models import Post
from services.statistics.sql import SqlForumRepository, SqlIdentificationRepository

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _seeded(tmp_path: Path, size: int) -> Engine:
    url = f"sqlite:///{tmp_path / f'size-{size}.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    seed(engine, users=size, forums=size, topics=size * 2, posts=size * 6, seed=5, now=NOW)
    return engine


def _calls(engine: Engine) -> dict[str, Callable[[], object]]:
    forums = SqlForumRepository(db.session_factory(engine))
    identifications = SqlIdentificationRepository(db.session_factory(engine))
    week = NOW - timedelta(days=7)
    return {
        "site_totals": forums.site_totals,
        "online_users": lambda: forums.online_users(since=NOW - timedelta(minutes=15)),
        "forum_online": lambda: forums.online_users(since=week, forum_id=3),
        "forum_totals": lambda: forums.forum_totals(3, since=week),
        "user_totals": lambda: forums.user_totals(3),
        "identification_totals": lambda: identifications.totals(since=week),
    }


def test_statements_per_call_are_the_same_at_10_and_1000_forums_and_users(tmp_path: Path) -> None:
    per_size = {}
    for size in (10, 1000):
        engine = _seeded(tmp_path, size)
        per_call = {}
        for name, call in _calls(engine).items():
            call()  # warm the connection pool (SQLite's PRAGMAs run once per connection)
            with counting(engine) as statements:
                call()
            per_call[name] = len(statements)
        per_size[size] = per_call
    assert per_size[10] == per_size[1000]
    assert max(per_size[10].values()) <= 3


def test_a_lazy_relationship_load_raises_instead_of_querying(tmp_path: Path) -> None:
    engine = _seeded(tmp_path, 10)
    with Session(engine) as session:
        post = session.scalars(sa.select(Post).limit(1)).one()
        with pytest.raises(sa.exc.InvalidRequestError, match="lazy='raise'"):
            _ = post.author

"""seed() on a real SQLite file and on a real PostgreSQL scratch database."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypedDict, cast

import pytest
from sqlalchemy import Engine, func, insert, select

from harness import postgres
from localkit.seed import SeedReport, seed
from localkit.seed import write as seed_write
from services import db
from services.statistics.models import Forum, Post, Topic, User


class Sizes(TypedDict):
    users: int
    forums: int
    topics: int
    posts: int


# Keys in the order seed() writes the tables.
SIZES = Sizes(forums=10, users=50, topics=200, posts=2_000)
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BACKENDS = ["sqlite", "postgresql"]
TABLES = (User, Forum, Topic, Post)


class Seeded(NamedTuple):
    engine: Engine
    report: SeedReport


@functools.cache
def _postgres_reachable() -> bool:
    return postgres.reachable()


@contextlib.contextmanager
def _database(backend: str, directory: Path) -> Iterator[Engine]:
    """An engine on an empty, migrated database of the given backend."""
    with contextlib.ExitStack() as stack:
        if backend == "postgresql":
            if not _postgres_reachable():
                pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
            url = stack.enter_context(postgres.scratch_database())
        else:
            url = f"sqlite:///{directory / 'seed.db'}"
        db.upgrade(url)
        engine = db.make_engine(url)
        stack.callback(engine.dispose)
        yield engine


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with _database(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """One seeding per backend, shared by the tests that only read."""
    with _database(request.param, tmp_path_factory.mktemp("seeded")) as engine:
        yield Seeded(engine, seed(engine, **SIZES, seed=7, now=NOW))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rows(engine: Engine, statement: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(statement))


def _digest(engine: Engine) -> str:
    """A hash of every forum row, with timestamps normalised to UTC across backends."""
    digest = hashlib.sha256()
    for model in TABLES:
        for row in _rows(engine, select(model.__table__).order_by(model.__table__.c.id)):
            values = [_utc(v) if isinstance(v, datetime) else v for v in row]
            digest.update(repr(values).encode())
    return digest.hexdigest()


def _counts(engine: Engine) -> dict[str, int]:
    return {
        m.__tablename__: _rows(engine, select(func.count()).select_from(m))[0][0] for m in TABLES
    }


def test_every_table_gets_exactly_the_requested_number_of_rows(seeded: Seeded) -> None:
    assert _counts(seeded.engine) == SIZES
    assert (seeded.report.users, seeded.report.forums) == (50, 10)
    assert (seeded.report.topics, seeded.report.posts) == (200, 2_000)
    assert seeded.report.now == NOW and seeded.report.elapsed_s > 0


def test_the_same_seed_and_now_rebuild_identical_rows_and_another_seed_does_not(
    engine: Engine,
) -> None:
    seed(engine, **SIZES, seed=7, now=NOW)
    first = _digest(engine)
    seed(engine, **SIZES, seed=7, now=NOW, reset=True)
    assert _digest(engine) == first
    seed(engine, **SIZES, seed=8, now=NOW, reset=True)
    assert _digest(engine) != first


def test_sqlite_and_postgresql_get_identical_rows_from_the_same_seed(tmp_path: Path) -> None:
    digests = []
    for backend in BACKENDS:
        with _database(backend, tmp_path) as engine:
            seed(engine, **SIZES, seed=7, now=NOW)
            digests.append(_digest(engine))
    assert digests[0] == digests[1]


def test_a_few_users_write_most_posts_and_the_busiest_forum_dwarfs_the_median(
    seeded: Seeded,
) -> None:
    per_user = [
        n
        for _, n in _rows(seeded.engine, select(Post.user_id, func.count()).group_by(Post.user_id))
    ]
    top = sorted(per_user, reverse=True)[: math.ceil(SIZES["users"] * 0.05)]
    assert sum(top) > 0.3 * SIZES["posts"]
    per_forum = dict(
        _rows(seeded.engine, select(Post.forum_id, func.count()).group_by(Post.forum_id))
    )
    counts = [per_forum.get(forum_id, 0) for forum_id in range(1, SIZES["forums"] + 1)]
    assert max(counts) >= 4 * statistics.median(counts)


def test_about_five_percent_of_posts_and_three_percent_of_topics_await_approval(
    seeded: Seeded,
) -> None:
    hidden_posts = _rows(seeded.engine, select(func.count()).where(Post.approved.is_(False)))[0][0]
    hidden_topics = _rows(seeded.engine, select(func.count()).where(Topic.approved.is_(False)))[0][
        0
    ]
    assert 0.03 * SIZES["posts"] <= hidden_posts <= 0.08 * SIZES["posts"]
    assert 1 <= hidden_topics <= 0.08 * SIZES["topics"]


def test_posts_share_their_topics_forum_and_never_predate_it_or_their_author(
    seeded: Seeded,
) -> None:
    statement = (
        select(Post.forum_id, Topic.forum_id, Post.created_at, Topic.created_at, User.created_at)
        .join(Topic, Post.topic_id == Topic.id)
        .join(User, Post.user_id == User.id)
    )
    rows = _rows(seeded.engine, statement)
    assert len(rows) == SIZES["posts"]
    for post_forum, topic_forum, posted, opened, signed_up in rows:
        assert post_forum == topic_forum
        assert _utc(opened) <= _utc(posted) and _utc(signed_up) <= _utc(posted)


def test_activity_falls_in_the_last_90_days_and_sign_ups_in_the_last_year(seeded: Seeded) -> None:
    for column, days in ((Post.created_at, 90), (Topic.created_at, 90), (User.created_at, 365)):
        oldest, newest = _rows(seeded.engine, select(func.min(column), func.max(column)))[0]
        assert NOW - timedelta(days=days) <= _utc(oldest) <= _utc(newest) <= NOW


def test_some_users_were_seen_in_the_last_15_minutes_in_a_forum_they_post_in(
    seeded: Seeded,
) -> None:
    recent = _rows(
        seeded.engine,
        select(User.id, User.last_seen_forum_id).where(
            User.last_seen_at >= NOW - timedelta(minutes=15)
        ),
    )
    assert recent
    for user_id, forum_id in recent:
        assert forum_id is not None
        mine = select(func.count()).where(Post.user_id == user_id, Post.forum_id == forum_id)
        assert _rows(seeded.engine, mine)[0][0] >= 1


def test_seeding_filled_tables_needs_reset_and_reset_gives_the_same_counts(engine: Engine) -> None:
    seed(engine, **SIZES, seed=1, now=NOW)
    with pytest.raises(ValueError, match="reset"):
        seed(engine, **SIZES, seed=2, now=NOW)
    seed(engine, **SIZES, seed=2, now=NOW, reset=True)
    assert _counts(engine) == SIZES


def test_new_rows_after_seeding_get_the_next_free_id(engine: Engine) -> None:
    seed(engine, **SIZES, seed=1, now=NOW)
    with engine.begin() as connection:
        forum_id = connection.execute(
            insert(Forum).values(name="Late arrivals").returning(Forum.id)
        ).scalar_one()
    assert forum_id == SIZES["forums"] + 1


def test_progress_reports_each_table_in_write_order_batch_by_batch_up_to_its_total(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seed_write, "BATCH_ROWS", 500)
    calls: list[tuple[str, int, int]] = []
    seed(engine, **SIZES, seed=1, now=NOW, progress=lambda *call: calls.append(call))
    totals = cast("dict[str, int]", SIZES)
    assert list(dict.fromkeys(table for table, _, _ in calls)) == list(totals)
    for table, n in totals.items():
        expected = [(min(n, batch * 500), n) for batch in range(1, math.ceil(n / 500) + 1)]
        assert [(done, total) for t, done, total in calls if t == table] == expected


@pytest.mark.parametrize(
    ("sizes", "named"),
    [
        (Sizes(users=0, forums=1, topics=1, posts=1), "users"),
        (Sizes(users=1, forums=1, topics=0, posts=1), "topics"),
        (Sizes(users=1, forums=0, topics=1, posts=1), "forums"),
        (Sizes(users=1, forums=1, topics=5, posts=4), "posts"),
        (Sizes(users=1, forums=-1, topics=0, posts=0), "forums"),
    ],
)
def test_sizes_that_cannot_make_a_consistent_forum_are_refused_by_name(
    tmp_path: Path, sizes: Sizes, named: str
) -> None:
    with _database("sqlite", tmp_path) as engine:
        with pytest.raises(ValueError, match=named):
            seed(engine, **sizes, seed=1, now=NOW)
        assert _counts(engine) == dict.fromkeys(SIZES, 0)

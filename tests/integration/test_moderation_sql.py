"""Moderation over a real database (SQLite and a scratch PostgreSQL): duplicates found in the same
number of statements with 1,000 or 100,000 scored posts in the window, the review queue's order,
decisions feeding the author's history, a seeded backlog scored with a poison post in it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import BigInteger, Engine, cast, func, select, text, update

from harness.sql import counting
from localkit.seed import seed
from services import db
from services.moderation.scoring import Rules
from services.moderation.service import ModerationService
from services.moderation.sql import PostFacts, SqlModeration
from services.statistics.models import Post, User

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
RULES = Rules(patterns=(r"buy\s+now",), words=("casino",))
YEAR_S = 365 * 86_400.0


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(any_database_url)
    yield engine
    engine.dispose()


def _service(engine: Engine) -> ModerationService:
    store = SqlModeration(db.session_factory(engine))
    return ModerationService(
        store=store, cache=None, rules=lambda: RULES, clock=lambda: NOW, window_s=YEAR_S
    )


def _band_every_post(engine: Engine) -> None:
    """Bands for every seeded post at once, in the database (as if all had been scored)."""
    bands = " UNION ALL ".join(f"SELECT {n} AS band" for n in range(8))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO post_bands (post_id, band, value, created_at, simhash) "
                "SELECT p.id, b.band, (p.id * 37 + b.band * 11) % 256, p.created_at, "
                "CAST(p.id AS BIGINT) * 7919 "
                f"FROM posts p CROSS JOIN ({bands}) b"
            )
        )
        simhash = cast(Post.id, BigInteger) * 7919
        connection.execute(update(Post).values(simhash=simhash, scored_at=NOW))


@pytest.mark.parametrize("posts", [1_000, 100_000])
def test_scoring_a_post_takes_the_same_statements_whatever_the_window_holds(
    engine: Engine, posts: int
) -> None:
    seed(engine, users=200, forums=5, topics=posts // 20, posts=posts, seed=4, now=NOW)
    _band_every_post(engine)
    with engine.begin() as connection:
        newest = connection.scalar(select(func.max(Post.id)))
        connection.execute(update(Post).where(Post.id == newest).values(scored_at=None))
    service = _service(engine)
    with counting(engine) as statements:
        service.score_post(newest)
    # facts 2, duplicates 2 (exact, then bands), save 4 (post, review state, bands out and in)
    assert len(statements) == 8, statements


def test_exact_and_near_copies_are_found_and_wait_for_review(engine: Engine) -> None:
    seed(engine, users=20, forums=2, topics=10, posts=60, seed=5, now=NOW)
    original = (
        "My monstera has yellow leaves since I moved it next to the south window last week. "
        "Is it too much sun, or did I overwater it when I repotted it? The soil stays damp."
    )
    copies = [original, original.upper() + "!!", original.replace("last week", "last Tuesday")]
    with engine.begin() as connection:
        ids = connection.scalars(select(Post.id).order_by(Post.id).limit(3)).all()
        for post_id, content in zip(ids, copies, strict=True):
            connection.execute(update(Post).where(Post.id == post_id).values(content=content))
    service = _service(engine)
    first, exact, near = (service.score_post(post_id) for post_id in ids)
    assert first.duplicate_of is None
    assert (exact.duplicate_of, near.duplicate_of) == (ids[0], ids[0])
    assert exact.review_status == near.review_status == "pending"


def test_the_queue_puts_the_likeliest_spam_of_repeat_offenders_first_and_decisions_count(
    engine: Engine,
) -> None:
    seed(engine, users=20, forums=2, topics=10, posts=60, seed=6, now=NOW)
    with engine.begin() as connection:
        a, b, c = connection.scalars(select(Post.id).order_by(Post.id).limit(3)).all()
        texts = {a: "buy now casino", b: "Buy now please", c: "casino night was fun"}
        for post_id, content in texts.items():
            connection.execute(update(Post).where(Post.id == post_id).values(content=content))
    service = _service(engine)
    for post_id in (a, b, c):
        service.score_post(post_id)
    queue = service.review_queue(limit=10)
    assert [item.post_id for item in queue[:2]] == [a, b]  # c scores below the threshold
    assert queue[0].priority > queue[1].priority and queue[0].reasons
    author = queue[0].author_id
    service.decide(a, "reject")
    service.decide(b, "not_spam")
    with engine.connect() as connection:
        history = connection.execute(
            select(User.spam_rejections, User.not_spam_marks).where(User.id == author)
        ).one()
        statuses = dict(
            connection.execute(select(Post.id, Post.review_status).where(Post.id.in_([a, b]))).all()
        )
    assert history[0] >= 1
    assert statuses == {a: "rejected", b: "not_spam"}
    assert [item.post_id for item in service.review_queue(limit=10)] == []


def test_a_seeded_backlog_is_scored_and_a_poison_post_waits_for_a_moderator(
    engine: Engine,
) -> None:
    seed(engine, users=30, forums=3, topics=20, posts=300, seed=7, now=NOW)
    with engine.connect() as connection:
        poison = connection.scalar(select(func.min(Post.id)))

    class Poisoned(SqlModeration):
        """A row this store cannot read, as a broken import would leave."""

        def facts(self, post_id: int, *, burst_s: float) -> PostFacts | None:
            if post_id == poison:
                raise ValueError("invalid byte sequence in the post's content")
            return super().facts(post_id, burst_s=burst_s)

    store = Poisoned(db.session_factory(engine))
    service = ModerationService(store=store, cache=None, rules=lambda: RULES, clock=lambda: NOW)
    assert service.score_backlog(limit=1_000) == (299, 1)
    assert service.score_backlog(limit=1_000) == (0, 0)  # the poison is not retried in a loop
    with engine.connect() as connection:
        left = connection.scalar(select(func.count()).where(Post.scored_at.is_(None)))
        status, reasons = connection.execute(
            select(Post.review_status, Post.spam_reasons).where(Post.id == poison)
        ).one()
    assert left == 0 and status == "pending" and "invalid byte sequence" in reasons
    assert poison in [item.post_id for item in service.review_queue(limit=500)]

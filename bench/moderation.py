"""Moderation over the seeded million posts on PostgreSQL: scoring throughput of one process (the
real service, real fingerprints, real duplicate lookups against every post's bands) and the
review queue's query time with a large queue."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, text, update

from beat_schedule import SERVICES
from bench.common import Row
from bench.statistics_scale import SIZES
from bench.statistics_support import Database, seeded
from services import db
from services.moderation.service import ModerationService, rules_from
from services.moderation.sql import SqlModeration
from services.statistics.models import Post

SCORED = 2_000  # posts scored one by one, the newest (their window is full)
PENDING_SHARE = 0.05  # of all posts, waiting for review when the queue is timed
QUEUE_ROUNDS = 20


def run(backend: str, database: Database | None) -> list[Row]:
    posts = f"{SIZES['posts']:,} posts"
    name = f"moderation: posts scored per second, one process, {posts}, {backend}"
    queue_name = (
        f"moderation: review queue, first page of 50 with {PENDING_SHARE:.0%} of {posts} "
        f"waiting, {backend} (ms, median of {QUEUE_ROUNDS}; min-max)"
    )
    if database is None:
        return [Row(name, f"not measured: {backend} unreachable"), Row(queue_name, "-")]
    with seeded(database, **SIZES) as (engine, _report):
        _band_every_post(engine)
        service = _service(engine)
        rate = _scoring_rate(engine, service)
        _fill_queue(engine)
        samples = [_queue_ms(service) for _ in range(QUEUE_ROUNDS)]
    median = statistics.median(samples)
    return [
        Row(name, f"{rate:,.0f}"),
        Row(queue_name, f"{median:.1f} ({min(samples):.1f}-{max(samples):.1f})"),
    ]


def _service(engine: Engine) -> ModerationService:
    rules = rules_from(SERVICES["moderation"]["options"])
    store = SqlModeration(db.session_factory(engine))
    return ModerationService(store=store, cache=None, rules=lambda: rules)


def _band_every_post(engine: Engine) -> None:
    """Every post carries bands (as if all had been scored), so each lookup searches a full
    window; pseudo-random values, as simhashes' are."""
    bands = " UNION ALL ".join(f"SELECT {n} AS band" for n in range(8))
    value = "((p.id * 2654435761 + b.band * 40503) % 256)"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO post_bands (post_id, band, value, created_at, simhash) "
                f"SELECT p.id, b.band, {value}, p.created_at, CAST(p.id AS BIGINT) * 7919 "
                f"FROM posts p CROSS JOIN ({bands}) b"
            )
        )
        connection.execute(text("ANALYZE") if engine.dialect.name == "postgresql" else select(1))


def _scoring_rate(engine: Engine, service: ModerationService) -> float:
    with engine.connect() as connection:
        newest = select(Post.id).order_by(Post.created_at.desc()).limit(SCORED)
        post_ids = list(connection.scalars(newest))
    started = time.perf_counter()
    for post_id in post_ids:
        service.score_post(post_id)
    return len(post_ids) / (time.perf_counter() - started)


def _fill_queue(engine: Engine) -> None:
    every = round(1 / PENDING_SHARE)
    pending = {"review_status": "pending", "spam_score": (Post.id % 97) / 97.0}
    with engine.begin() as connection:
        connection.execute(update(Post).where(Post.id % every == 0).values(pending))
        connection.execute(text("ANALYZE") if engine.dialect.name == "postgresql" else select(1))
        waiting = connection.scalar(select(func.count()).where(Post.review_status == "pending"))
    if not waiting:
        raise RuntimeError("the review queue is empty: nothing would be measured")


def _queue_ms(service: ModerationService) -> float:
    started = time.perf_counter()
    page = service.review_queue(limit=50)
    elapsed = (time.perf_counter() - started) * 1000
    if len(page) != 50:
        raise RuntimeError(f"the first page held {len(page)} posts, not 50")
    return elapsed


if __name__ == "__main__":  # `python -m bench.moderation`: this section alone
    from bench.statistics_support import postgres_database

    for row in run("PostgreSQL", postgres_database):
        print(row)
    print(datetime.now(UTC))

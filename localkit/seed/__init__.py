"""Fill the forum tables with realistic, skewed, reproducible data for demos and load tests.

The same `seed` and `now` give identical rows, on SQLite and PostgreSQL alike: every random
choice comes from `random.Random` streams derived from `seed`, and every timestamp is a whole
number of seconds before `now`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, literal, select, text

from localkit.seed.plan import Sizes, make_plan
from localkit.seed.rows import COLUMNS, forum_rows, post_rows, topic_rows, user_rows
from localkit.seed.write import Progress, finish, write_table
from services.moderation.models import ModerationDecision, PostBand
from services.statistics.models import Forum, Post, Topic, User

# Children before parents, so deleting in this order never breaks a foreign key.
DELETE_ORDER = (PostBand, ModerationDecision, Post, Topic, User, Forum)


@dataclass(frozen=True)
class SeedReport:
    """Rows written per table, the `now` they were dated against, and the time it took."""

    users: int
    forums: int
    topics: int
    posts: int
    now: datetime
    elapsed_s: float


def seed(
    engine: Engine,
    *,
    users: int,
    forums: int,
    topics: int,
    posts: int,
    seed: int,
    now: datetime | None = None,
    reset: bool = False,
    progress: Progress | None = None,
) -> SeedReport:
    """Seed the forum tables; equal `seed` and `now` (default: this UTC minute) give equal rows."""
    sizes = Sizes(users=users, forums=forums, topics=topics, posts=posts)
    sizes.validate()
    started = time.perf_counter()
    _clear_or_refuse(engine, reset=reset)
    plan = make_plan(sizes, seed=seed, now=_as_utc(now))
    on_batch = progress or _ignore
    streams = {
        "forums": (forum_rows(plan), forums),
        "users": (user_rows(plan), users),
        "topics": (topic_rows(plan), topics),
        "posts": (post_rows(plan), posts),
    }
    for table, (rows, total) in streams.items():
        write_table(engine, table, COLUMNS[table], rows, total=total, progress=on_batch)
    finish(engine, last_ids={table: total for table, (_, total) in streams.items()})
    elapsed_s = time.perf_counter() - started
    return SeedReport(users, forums, topics, posts, now=plan.now, elapsed_s=elapsed_s)


def _clear_or_refuse(engine: Engine, *, reset: bool) -> None:
    with engine.begin() as connection:
        if reset and engine.dialect.name == "postgresql":
            # One TRUNCATE empties all four at once and leaves no dead rows for VACUUM to scan;
            # DELETE took ~20 s on a million posts.
            names = ", ".join(model.__tablename__ for model in DELETE_ORDER)
            connection.execute(text(f"TRUNCATE {names}"))
        elif reset:
            for model in DELETE_ORDER:
                connection.execute(delete(model))
        else:
            filled = [
                model.__tablename__
                for model in DELETE_ORDER
                if connection.execute(select(literal(1)).select_from(model).limit(1)).first()
            ]
            if filled:
                raise ValueError(
                    f"forum tables already hold rows ({', '.join(filled)}); "
                    "pass reset=True to replace them"
                )


def _as_utc(now: datetime | None) -> datetime:
    # A naive `now` is taken to be UTC already.
    if now is None:
        # Whole minutes make the default easy to repeat: pass the reported `now` back in.
        return datetime.now(UTC).replace(second=0, microsecond=0)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _ignore(table: str, done: int, total: int) -> None:
    """Progress sink for callers that do not show progress."""

"""The demo's review queue: the seeded forum's newest posts scored through the moderation
tasks, then the posts waiting for a moderator, most urgent first."""

from __future__ import annotations

import sqlalchemy as sa
from celery.result import ResultSet
from rich.console import Console
from rich.table import Table

from services import db
from services.statistics.models import Post
from tasks.app import app

NEWEST = 400  # posts scored for the demo; the moderation service scores the rest in the background


def print_review_queue(database_url: str, console: Console, *, shown: int = 8) -> bool:
    """Score the newest posts, print the queue; True when every scoring task succeeded."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            newest = sa.select(Post.id).order_by(Post.id.desc()).limit(NEWEST)
            post_ids = list(connection.scalars(newest))
    finally:
        engine.dispose()
    sent = [app.send_task("moderation.score_post", kwargs={"post_id": p}) for p in post_ids]
    scored = ResultSet(sent).join_native(timeout=120, propagate=False)
    ok = all(isinstance(result, dict) for result in scored)
    queue = app.send_task("moderation.review_queue", kwargs={"limit": shown}).get(timeout=60)
    table = Table(title=f"Review queue (the newest {len(post_ids)} posts scored)")
    for column in ("post", "author", "score", "why", "excerpt"):
        table.add_column(column)
    for item in queue["items"]:
        why = "; ".join(item["reasons"]) or ("awaiting approval" if not item["approved"] else "")
        excerpt = item["excerpt"][:50] + ("…" if len(item["excerpt"]) > 50 else "")
        table.add_row(
            str(item["post_id"]), item["username"], f"{item['spam_score']:.2f}", why[:70], excerpt
        )
    console.print(table)
    console.print(
        "moderators: `greenhouse moderation queue`, `greenhouse moderation decide ID approve`"
    )
    return ok

"""The demo's statistics: a small seeded forum, then its figures through the statistics tasks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from localkit.seed import seed
from services import db
from services.statistics.models import User
from tasks.app import app


def ensure_demo_forum(database_url: str, console: Console) -> None:
    """Seed a small forum the first time the demo runs on this database."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            if connection.execute(sa.select(sa.func.count()).select_from(User)).scalar_one():
                return
        report = seed(engine, users=300, forums=12, topics=1500, posts=12000, seed=42)
        console.print(f"seeded a demo forum: {report.users} users, {report.posts} posts")
    finally:
        engine.dispose()


def _ask(name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = app.send_task(name, args, kwargs).get(timeout=60)
    return result


def print_statistics(console: Console) -> None:
    """Forum overview, the first forums, and the identification summary, as tables."""
    overview = _ask("statistics.forum_overview")
    table = Table(title="Forum overview")
    for column in ("active users", "topics", "posts", "online", "latest member"):
        table.add_column(column)
    member = overview["latest_member"] or {}
    table.add_row(
        str(overview["active_users"]),
        str(overview["approved_topics"]),
        str(overview["approved_posts"]),
        str(overview["online_users"]),
        member.get("username", "-"),
    )
    console.print(table)

    forums = Table(title="Forums")
    for column in ("forum", "topics", "posts", "posts 7 d", "online", "trending"):
        forums.add_column(column)
    for forum_id in range(1, 6):
        detail = _ask("statistics.forum_detail", forum_id)
        forums.add_row(
            detail["name"],
            str(detail["topics"]),
            str(detail["posts"]),
            str(detail["posts_last_7_days"]),
            str(detail["online_users"]),
            "yes" if detail["trending"] else "no",
        )
    console.print(forums)

    summary = _ask("statistics.identification_summary", days=7)
    ident = Table(title="Identifications, last 7 days")
    for column in ("total", "cache hits", "Plant.id ok", "PlantNet ok", "top species"):
        ident.add_column(column)
    success = summary["provider_success"]
    top = ", ".join(f"{s['name']} ({s['count']})" for s in summary["top_species"][:3])
    ident.add_row(
        str(summary["total"]),
        _ratio(summary["cache_hit_ratio"]),
        _ratio(success["plant_id"]["ratio"]),
        _ratio(success["plantnet"]["ratio"]),
        top,
    )
    console.print(ident)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"

"""`greenhouse moderation`: the review queue for moderators, and their decisions."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from services.errors import GreenhouseError

console = Console()


@click.group()
def moderation() -> None:
    """Posts waiting for a moderator: list them, decide."""


@moderation.command("queue")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def moderation_queue(limit: int, offset: int, as_json: bool) -> None:
    """Most urgent first: the score, why, and how long the post has waited."""
    from tasks import runtime

    items = runtime.container().moderation.review_queue(limit=limit, offset=offset)
    if as_json:
        click.echo(json.dumps([item.to_dict() for item in items], indent=2))
        return
    table = Table(title="Review queue")
    for column in ("post", "author", "score", "priority", "why", "excerpt"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.post_id),
            item.username,
            f"{item.spam_score:.2f}",
            f"{item.priority:.2f}",
            "; ".join(item.reasons)[:80] or ("not approved" if not item.approved else "-"),
            item.excerpt[:60].replace("\n", " "),
        )
    if not items:
        table.add_row("none", "", "", "", "", "")
    console.print(table)


@moderation.command("decide")
@click.argument("post_id", type=int)
@click.argument("decision", type=click.Choice(["approve", "reject", "not_spam"]))
def moderation_decide(post_id: int, decision: str) -> None:
    """Approve, reject, or mark POST_ID not spam (which counts for its author)."""
    from tasks import runtime

    try:
        done = runtime.container().moderation.decide(post_id, decision)
    except GreenhouseError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"post {post_id}: {done['review_status']}")

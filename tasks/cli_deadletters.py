"""`greenhouse dead-letters`: list final failures and replay them."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import redis
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from services.delivery.deadletters import DeadLetter, DeadLetterStore
from services.delivery.replay import Publish, publisher, replay
from services.delivery.spill import UNSTORABLE_KEY

console = Console()


@click.group("dead-letters")
def dead_letters() -> None:
    """Final task failures: list them, replay them."""


def _dead_letter_store() -> DeadLetterStore:
    """The table, after moving in any letters held in Redis while the database was down."""
    from tasks import runtime

    store = runtime.container().dead_letters
    if moved := store.drain():
        console.print(f"moved {moved} dead letters held in Redis or on disk into the table")
    try:
        if refused := store.unstorable():
            console.print(
                f"[yellow]{refused} letters the table refused are set aside in Redis "
                f"({UNSTORABLE_KEY}): read them there[/]"
            )
    except redis.RedisError as exc:  # the table still answers
        console.print(f"[yellow]Redis unreachable ({exc}): letters held there are not shown[/]")
    return store


@dead_letters.command("list")
@click.option("--limit", default=50, show_default=True)
def dead_letters_list(limit: int) -> None:
    """Newest first; arguments appear as a digest and a size, never whole."""
    table = Table(title="Dead letters")
    columns = ("id", "failed at", "task", "queue", "prio", "attempts", "error", "cause")
    for column in (*columns, "arguments"):
        table.add_column(column)
    for letter in _dead_letter_store().list(limit=limit):
        table.add_row(
            str(letter.id),
            f"{letter.failed_at:%Y-%m-%d %H:%M:%S}",
            letter.task_name,
            letter.queue or "-",
            str(letter.priority),
            str(letter.attempts),
            f"{letter.error_type}: {letter.error_message[:80]}",
            _cause(letter),
            f"sha256 {letter.arguments_digest[:12]}, {letter.arguments_bytes} B"
            + _replayed(letter),
        )
    console.print(table)


def _cause(letter: DeadLetter) -> str:
    """upstream (plant_id, plantnet), transient, permanent; replay of N; "-" when unknown."""
    cause = letter.cause or "-"
    if letter.upstreams:
        cause += f" ({', '.join(letter.upstreams)})"
    return cause + (f", replay of {letter.replay_of}" if letter.replay_of else "")


def _replayed(letter: DeadLetter) -> str:
    if letter.replay_task_id:
        by = " by recovery" if letter.auto_replayed_at else ""
        return f", replayed{by} as {letter.replay_task_id}"
    return ", claimed by recovery" if letter.auto_replayed_at else ""


@dead_letters.command("replay")
@click.argument("letter_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Every letter not replayed yet.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="With --all: only letters that failed at or after this time (UTC).",
)
@click.option("--limit", default=10_000, show_default=True, help="With --all: at most this many.")
def dead_letters_replay(
    letter_id: int | None, every: bool, since: datetime | None, limit: int
) -> None:
    """Enqueue a letter's task again (original arguments, queue and priority), or, with --all,
    every letter never replayed, oldest first; exit 1 when any could not be sent."""
    from tasks.app import app

    if (letter_id is None) == (not every):
        raise click.UsageError("give a LETTER_ID or --all (not both)")
    store = _dead_letter_store()
    if letter_id is not None:
        letter = store.get(letter_id)
        if letter is None:
            raise click.ClickException(f"no dead letter with id {letter_id}")
        task_id = replay(store, letter, publisher(app))
        console.print(f"replayed dead letter {letter_id} as {letter.task_name}[{task_id}]")
        return
    after = since.replace(tzinfo=UTC) if since else None
    letters = store.list(limit=limit, since=after, waiting=True)[::-1]
    failed = _replay_all(store, letters, publisher(app))
    console.print(f"replayed {len(letters) - len(failed)} of {len(letters)} dead letters")
    for letter_id, reason in failed:
        console.print(f"[red]letter {letter_id} not replayed: {reason}[/]")
    raise SystemExit(1 if failed else 0)


def _replay_all(
    store: DeadLetterStore, letters: list[DeadLetter], publish: Publish
) -> list[tuple[int | None, str]]:
    """Replay each with a progress bar; the letters that could not be sent, and why."""
    failed = []
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("replaying", total=len(letters))
        for letter in letters:
            try:
                replay(store, letter, publish)
            except Exception as exc:  # the broker or the table: the others still go
                failed.append((letter.id, f"{type(exc).__name__}: {exc}"[:200]))
            progress.advance(bar)
    return failed

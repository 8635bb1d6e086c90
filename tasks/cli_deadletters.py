"""`greenhouse dead-letters`: list final failures and replay them."""

from __future__ import annotations

import click
import redis
from rich.console import Console
from rich.table import Table

from services.delivery.deadletters import DeadLetter, DeadLetterStore
from services.delivery.replay import publisher, replay
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
@click.argument("letter_id", type=int)
def dead_letters_replay(letter_id: int) -> None:
    """Enqueue the original task again, with its original arguments, queue and priority."""
    from tasks.app import app

    store = _dead_letter_store()
    letter = store.get(letter_id)
    if letter is None:
        raise click.ClickException(f"no dead letter with id {letter_id}")
    task_id = replay(store, letter, publisher(app))
    console.print(f"replayed dead letter {letter_id} as {letter.task_name}[{task_id}]")

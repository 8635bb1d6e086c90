"""The local kit's commands: `greenhouse up`, `demo`, `sandbox` and `seed`.

Each imports what it runs only when it runs, so the operators' CLI stays light.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import TYPE_CHECKING, Any, NoReturn

import click
from kombu.utils.url import maybe_sanitize_url
from rich.console import Console
from rich.progress import Progress, TaskID

from services import db
from services.settings import load

if TYPE_CHECKING:
    from localkit.stack import Stack

console = Console()


def _stop_on_sigterm() -> None:
    def interrupt(*_: Any) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


@click.command()
def up() -> None:
    """Start Redis (embedded unless REDIS_URL is set), worker, beat and Flower until Ctrl-C."""
    from localkit.stack import running_stack

    _stop_on_sigterm()
    settings = load()
    try:
        with running_stack(settings) as stack:
            _run_until_interrupted(stack)
    except KeyboardInterrupt:
        console.print("stopped every process")


@click.command()
@click.option("--once", is_flag=True, help="Exit after the batch (0 when every task succeeded).")
@click.option("--tasks", "count", default=40, show_default=True, help="Tasks in the batch.")
def demo(once: bool, count: int) -> None:
    """Start everything like `up`, run a sample batch with a progress bar, print the results."""
    from localkit.demo import run_batch
    from localkit.demo_moderation import print_review_queue
    from localkit.demo_services import print_services
    from localkit.demo_statistics import ensure_demo_forum, print_statistics
    from localkit.stack import running_stack

    _stop_on_sigterm()
    ok = False
    try:
        with running_stack(load()) as stack:
            ensure_demo_forum(stack.database_url, console)
            ok = run_batch(count, console)
            print_statistics(console)
            ok &= print_review_queue(stack.database_url, console)
            ok &= print_services(console)
            if not once:
                _run_until_interrupted(stack)
    except KeyboardInterrupt:
        console.print("stopped every process")
        return
    sys.exit(0 if ok else 1)


def _run_until_interrupted(stack: Stack) -> None:
    """Say where everything is, then watch the children until Ctrl-C (or one dies)."""
    settings = stack.settings
    console.print(
        f"Greenhouse is running: Redis {maybe_sanitize_url(stack.redis_url)}, "
        f"database {maybe_sanitize_url(settings.sqlalchemy_url)},\n"
        f"Flower http://{settings.flower_address}:{settings.flower_port}, "
        f"logs in {settings.var_dir / 'log'}. Ctrl-C stops everything."
    )
    while True:
        stack.supervisor.check()
        time.sleep(1)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True)
def sandbox(host: str, port: int) -> None:
    """Serve the Plant.id v3 and PlantNet v2 imitation (no keys, no internet needed)."""
    from localkit.sandbox.server import serve

    serve(host=host, port=port)


@click.command("seed")
@click.option("--users", default=1000, show_default=True)
@click.option("--forums", default=20, show_default=True)
@click.option("--topics", default=5000, show_default=True)
@click.option("--posts", default=50000, show_default=True)
@click.option("--seed", "seed_value", default=1, show_default=True, help="Same seed, same rows.")
@click.option("--reset", is_flag=True, help="Delete existing forum data first.")
def seed_command(
    users: int, forums: int, topics: int, posts: int, seed_value: int, reset: bool
) -> None:
    """Fill the forum tables with realistic, skewed, deterministic data."""
    from localkit.seed import seed

    settings = load()
    db.upgrade(settings.sqlalchemy_url)
    with Progress(console=console) as progress:
        bars: dict[str, TaskID] = {}

        def advance(table: str, done: int, total: int) -> None:
            if table not in bars:
                bars[table] = progress.add_task(table, total=total)
            progress.update(bars[table], completed=done)

        report = seed(
            db.make_engine(settings.sqlalchemy_url),
            users=users,
            forums=forums,
            topics=topics,
            posts=posts,
            seed=seed_value,
            reset=reset,
            progress=advance,
        )
    console.print(f"seeded {report}")


LOCAL_COMMANDS = (up, demo, sandbox, seed_command)

"""The `greenhouse` command line: operators' commands, plus the local kit's (localkit.commands)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click
from rich.console import Console

from localkit.commands import LOCAL_COMMANDS
from services import db
from services.settings import load
from tasks.cli_deadletters import dead_letters
from tasks.cli_guards import breakers, cache
from tasks.cli_health import health
from tasks.cli_moderation import moderation
from tasks.cli_services import services
from tasks.cli_status import status

console = Console()


@click.group()
def main() -> None:
    """Greenhouse: Celery workers for plant identification and community statistics."""
    logging.basicConfig(level=load().log_level, format="%(asctime)s %(levelname)s %(message)s")


@main.command()
@click.option("--out", type=click.Path(), help="Default: the client's schemas directory.")
def schemas(out: str | None) -> None:
    """Write the JSON Schemas of every public task's arguments and result (docs/TASKS.md)."""
    from tasks.contract import PUBLISHED, write_schemas

    for path in write_schemas(Path(out) if out else PUBLISHED):
        console.print(f"wrote {path}")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("flower_args", nargs=-1, type=click.UNPROCESSED)
def flower(flower_args: tuple[str, ...]) -> None:
    """Flower on the settings' address and port, refusing to listen off loopback without
    authentication, its API and /metrics behind the same credentials (tasks/flower.py)."""
    from tasks.flower import CONF

    argv = [sys.executable, "-m", "celery", "-A", "tasks", "flower", f"--conf={CONF}"]
    os.execv(sys.executable, [*argv, *flower_args])


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (Alembic) to DATABASE_URL."""
    db.upgrade(load().sqlalchemy_url)
    console.print("database schema is up to date")


for command in (health, status, breakers, cache, dead_letters, services, moderation):
    main.add_command(command)
for command in LOCAL_COMMANDS:
    main.add_command(command)

if __name__ == "__main__":
    main()

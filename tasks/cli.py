"""The `greenhouse` command line: operators' commands, plus the local kit's (localkit.commands)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from rich.console import Console

from localkit.commands import LOCAL_COMMANDS
from services import db
from services.settings import load
from tasks.cli_deadletters import dead_letters
from tasks.cli_health import health
from tasks.cli_services import services

console = Console()


@click.group()
def main() -> None:
    """Greenhouse: Celery workers for plant identification and community statistics."""
    logging.basicConfig(level=load().log_level, format="%(asctime)s %(levelname)s %(message)s")


@main.command()
@click.option("--out", type=click.Path(), default="docs/schemas", show_default=True)
def schemas(out: str) -> None:
    """Write the JSON Schema of every public task payload."""
    from tasks.contract import write_schemas

    for path in write_schemas(Path(out)):
        console.print(f"wrote {path}")


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (Alembic) to DATABASE_URL."""
    db.upgrade(load().sqlalchemy_url)
    console.print("database schema is up to date")


main.add_command(health)


main.add_command(dead_letters)
main.add_command(services)
for command in LOCAL_COMMANDS:
    main.add_command(command)

if __name__ == "__main__":
    main()

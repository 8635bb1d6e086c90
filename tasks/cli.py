"""The `greenhouse` command line: operators' commands, plus the local kit's (localkit.commands)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import redis
from kombu.utils.url import maybe_sanitize_url
from rich.console import Console

from localkit.commands import LOCAL_COMMANDS
from services import db
from services.bootstrap import redis_client
from services.health import Heartbeat
from services.settings import load
from tasks.cli_deadletters import dead_letters
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


@main.command()
@click.option("--max-age", "max_age_s", default=90.0, show_default=True)
def health(max_age_s: float) -> None:
    """Exit 0 when Redis answers and beat's heartbeat ran through a worker recently."""
    settings = load()
    url = settings.redis_url_or_embedded
    client = redis_client(url, settings, timeout_s=2)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        raise click.ClickException(f"Redis at {maybe_sanitize_url(url)} does not answer") from None
    age = Heartbeat(client).age_s("beat")
    if age is None or age > max_age_s:
        raise click.ClickException("no beat heartbeat has been processed by a worker recently")
    console.print(f"healthy: last beat heartbeat {age:.0f}s ago")


main.add_command(dead_letters)
main.add_command(services)
for command in LOCAL_COMMANDS:
    main.add_command(command)

if __name__ == "__main__":
    main()

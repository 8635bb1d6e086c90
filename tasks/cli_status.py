"""`greenhouse status`: queues, workers, breakers, services and dead letters on one screen."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console, Group
from rich.table import Table

from services.bootstrap import dead_letter_store, redis_client
from services.settings import load
from services.status import Status, gather

console = Console()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--timeout", "timeout_s", default=2.0, show_default=True, help="Seconds per part.")
def status(as_json: bool, timeout_s: float) -> None:
    """One screen of how things stand; exit 0 when every part was read, 1 when one was not
    (each named with what to check)."""
    import celeryconfig  # the broker and queues the workers use (it starts nothing)

    settings = load()
    client = redis_client(settings.redis_url_or_embedded, settings, timeout_s=timeout_s)
    report = gather(
        client=client,
        broker_url=str(celeryconfig.broker_url),
        dead_letters=lambda: dead_letter_store(settings),
        queues=[queue.name for queue in celeryconfig.task_queues],
        timeout_s=timeout_s,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        console.print(render(report))
    raise SystemExit(1 if report.problems else 0)


def render(report: Status) -> Group:
    parts: list[Any] = []
    if report.queues is not None:
        parts.append(_queues(report.queues))
    if report.workers is not None:
        parts.append(_table("Workers", report.workers, ("nodename", "pool", "concurrency")))
    if report.breakers is not None:
        parts.append(_table("Breakers", report.breakers, ("name", "state", "failures")))
    if report.services is not None:
        columns = ("name", "state", "failures_in_a_row", "runs")
        parts.append(_table("Services", report.services, columns))
    if report.dead_letters is not None:
        parts.append(_table("Dead letters", [report.dead_letters], tuple(report.dead_letters)))
    parts += [f"[red]{problem}[/]" for problem in report.problems]
    return Group(*parts)


def _queues(found: dict[str, Any]) -> Table:
    table = Table(title=f"Queues (delivered, not yet acknowledged: {found['unacked'] or 0})")
    for column in ("queue", "waiting", "by priority (9 = most urgent)"):
        table.add_column(column)
    for name, depth in found["queues"].items():
        by = depth["by_priority"] or {}
        shown = ", ".join(f"{p}: {n}" for p, n in sorted(by.items(), reverse=True)) or "-"
        table.add_row(name, str(depth["total"]), shown)
    return table


def _table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    if not rows:
        table.add_row(*(["none"] + [""] * (len(columns) - 1)))
    return table


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "-" if value is None else str(value)

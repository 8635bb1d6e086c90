"""`greenhouse services`: see and steer the periodic services beat runs."""

from __future__ import annotations

import json
import time
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from services.background import registry
from services.background.config import ConfigStore, parse_assignments
from services.background.overview import ServiceView, overview
from services.background.state import ServiceStore
from services.errors import ValidationError

console = Console()


def _redis() -> Any:
    from tasks import runtime

    return runtime.container().redis


def _known(name: str) -> str:
    try:
        registry.default_config(name)
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    return name


@click.group("services")
def services() -> None:
    """Periodic services: list, pause, resume, run now, change settings live."""


@services.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def services_list(as_json: bool) -> None:
    """Every service: enabled, interval, state, failures, runs, last run and success."""
    views = overview(_redis())
    if as_json:
        click.echo(json.dumps([view.to_dict() for view in views], indent=2, default=str))
        return
    console.print(table(views))


def table(views: list[ServiceView], *, now: float | None = None) -> Table:
    """The services as a rich table (also shown by `greenhouse demo`)."""
    moment = time.time() if now is None else now
    grid = Table(title="Periodic services")
    for column in ("service", "every", "state", "runs", "failed", "items", "last run", "error"):
        grid.add_column(column)
    for view in views:
        m = view.metrics
        grid.add_row(
            view.config.name,
            f"{view.config.policy.interval_s:g}s",
            view.state if view.state != "ok" else "[green]ok[/]",
            str(m.runs),
            str(m.failures),
            str(m.items),
            "never" if m.last_run_at is None else f"{moment - m.last_run_at:.0f}s ago",
            (view.last_error or "")[:60],
        )
    return grid


@services.command("pause")
@click.argument("name", callback=lambda _c, _p, v: _known(v))
@click.option("--reason", default="", help="Shown in `services list` until resumed.")
def services_pause(name: str, reason: str) -> None:
    """Stop running NAME until `services resume NAME`."""
    ServiceStore(_redis()).hold(name, reason)
    console.print(f"{name} paused until resumed")


@services.command("resume")
@click.argument("name", callback=lambda _c, _p, v: _known(v))
def services_resume(name: str) -> None:
    """Run NAME again from its next tick; its failure count starts over."""
    ServiceStore(_redis()).resume(name)
    console.print(f"{name} resumed")


@services.command("run")
@click.argument("name", callback=lambda _c, _p, v: _known(v))
@click.option("--wait/--no-wait", default=True, show_default=True)
@click.option("--timeout", "timeout_s", default=120.0, show_default=True)
def services_run(name: str, wait: bool, timeout_s: float) -> None:
    """Run NAME once now on a worker (queue maintenance) and print its report."""
    from tasks.app import app

    result = app.send_task("services.run", kwargs={"name": name}, queue="maintenance", priority=9)
    if not wait:
        console.print(f"sent {result.id}")
        return
    report = result.get(timeout=timeout_s)
    click.echo(json.dumps(report, indent=2))
    if report.get("error"):
        raise SystemExit(1)


@services.command("set")
@click.argument("name", callback=lambda _c, _p, v: _known(v))
@click.argument("assignments", nargs=-1, required=True)
def services_set(name: str, assignments: tuple[str, ...]) -> None:
    """Change NAME's settings live, e.g. `interval_s=30 enabled=false batch_size=500`."""
    from tasks.app import app
    from tasks.beat_entries import reschedule

    try:
        values = parse_assignments(list(assignments))
        config = ConfigStore(_redis()).set(
            registry.default_config(name), values, check=registry.check
        )
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    rescheduled = reschedule(app, config)
    console.print(json.dumps(config.to_dict(), indent=2))
    if not rescheduled:
        console.print("beat has not stored its schedule yet; it applies this when it starts")

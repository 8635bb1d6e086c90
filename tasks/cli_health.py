"""`greenhouse health`: is every part alive (exit 0) or not (exit 1); `--history N` shows the
health monitor's samples."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from services.bootstrap import redis_client
from services.health_checks import COMPONENTS, Probes, Report, run_checks
from services.settings import load

console = Console()


@click.command()
@click.option(
    "--only",
    "components",
    multiple=True,
    type=click.Choice(COMPONENTS),
    help="Check only this component (repeat for several); default: all.",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="A queue that needs a live worker (repeat); default: every queue, none with --node.",
)
@click.option(
    "--node",
    "nodes",
    multiple=True,
    help="A worker that must be alive, e.g. identification@$HOSTNAME (repeat).",
)
@click.option(
    "--max-age",
    "max_age_s",
    default=90.0,
    show_default=True,
    help="pipeline: beat's heartbeat task must have run within this many seconds.",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=2.0,
    show_default=True,
    help="Each probe gives up after this many seconds.",
)
@click.option(
    "--history", "samples", type=int, help="Show the health monitor's last N samples instead."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def health(
    components: tuple[str, ...],
    queues: tuple[str, ...],
    nodes: tuple[str, ...],
    max_age_s: float,
    timeout_s: float,
    samples: int | None,
    as_json: bool,
) -> None:
    """Check Redis, the database, the broker, a live worker per queue and the scheduler (and
    that beat's heartbeat task went through a worker); exit 0 when all are alive, else 1."""
    if samples is not None:
        raise SystemExit(show_history(samples, as_json=as_json, timeout_s=timeout_s))
    probes = _probes(queues, nodes, timeout_s=timeout_s, max_age_s=max_age_s)
    report = run_checks(probes, components or COMPONENTS)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        show(report)
    raise SystemExit(0 if report.ok else 1)


def _probes(
    queues: Sequence[str], nodes: Sequence[str], *, timeout_s: float, max_age_s: float
) -> Probes:
    import celeryconfig  # the broker and queues the workers use (it starts nothing)

    known = [queue.name for queue in celeryconfig.task_queues]
    unknown = sorted(set(queues) - set(known))
    if unknown:
        message = f"{', '.join(unknown)}; the queues are {', '.join(known)}"
        raise click.BadParameter(message, param_hint="--queue")
    settings = load()
    return Probes(
        redis=redis_client(settings.redis_url_or_embedded, settings, timeout_s=timeout_s),
        database_url=settings.sqlalchemy_url,
        broker_url=str(celeryconfig.broker_url),
        queues=list(queues) or ([] if nodes else known),
        nodes=list(nodes),
        timeout_s=timeout_s,
        pipeline_max_age_s=max_age_s,
    )


def show(report: Report) -> None:
    """The report as people read it: a verdict, a line per component, the live workers."""
    grid = Table(title="Greenhouse health")
    for column in ("component", "state", "detail", "took"):
        grid.add_column(column)
    for check in report.checks:
        state = "[green]alive[/]" if check.ok else "[red]DEAD[/]"
        grid.add_row(check.component, state, check.summary, f"{check.took_ms:.0f} ms")
    console.print(grid)
    workers = next((c for c in report.checks if c.component == "workers"), None)
    if workers is not None and workers.details.get("nodes"):
        console.print(_workers(workers.details["nodes"]))
    if report.ok:
        console.print("[green]healthy[/]")
    else:
        console.print(f"[red]unhealthy[/]: {', '.join(report.failing)}")


def _workers(nodes: list[dict[str, Any]]) -> Table:
    grid = Table(title="Live workers (heartbeat keys)")
    for column in ("node", "queues", "pool", "pid", "host", "written"):
        grid.add_column(column)
    now = time.time()
    for node in nodes:
        pool = f"{node['pool']} x{node['concurrency']}"
        written = f"{max(0.0, now - node['at']):.0f}s ago"
        grid.add_row(
            node["nodename"],
            ",".join(node["queues"]),
            pool,
            str(node["pid"]),
            node["host"],
            written,
        )
    return grid


def show_history(count: int, *, as_json: bool, timeout_s: float) -> int:
    """Print the monitor's last `count` samples, oldest first; 1 when there are none."""
    from services.background.monitor import read_history

    settings = load()
    client = redis_client(settings.redis_url_or_embedded, settings, timeout_s=timeout_s)
    history = read_history(client, count)
    if as_json:
        click.echo(json.dumps(history, indent=2))
    elif history:
        console.print(history_table(history))
    else:
        console.print("no health samples: is the health-monitor service running?")
    return 0 if history else 1


def history_table(history: list[dict[str, Any]]) -> Table:
    """One row per sample: verdict, queued per queue, workers, Redis memory, host load."""
    queues = sorted({queue for entry in history for queue in entry.get("queued", {})})
    grid = Table(title="Health history (health-monitor samples)")
    for column in ("at (UTC)", "state", *queues, "unacked", "workers", "Redis MB"):
        grid.add_column(column)
    for column in ("CPU %", "mem %", "disk %"):
        grid.add_column(column)
    for entry in history:
        at = datetime.fromtimestamp(entry["at"], UTC).strftime("%Y-%m-%d %H:%M:%S")
        state = "[green]ok[/]" if entry["ok"] else f"[red]{','.join(entry['failing'])}[/]"
        queued = [str(entry.get("queued", {}).get(q, {}).get("total", "?")) for q in queues]
        memory = entry.get("redis_used_memory")
        load_ = [entry.get(k) for k in ("cpu_percent", "memory_percent", "disk_percent")]
        grid.add_row(
            at,
            state,
            *queued,
            str(entry.get("unacked", "?")),
            str(entry.get("workers", "?")),
            "?" if memory is None else f"{int(memory) / 1e6:.1f}",
            *("?" if value is None else f"{value:.0f}" for value in load_),
        )
    return grid

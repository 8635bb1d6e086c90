"""The demo batch: enqueue a mix of tasks, show progress, print what happened."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from celery.result import AsyncResult
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tasks.app import app

QUEUES = ("identification", "statistics", "maintenance", "default")


@dataclass
class Sent:
    """One demo task and its result handle."""

    number: int
    queue: str
    priority: int
    result: AsyncResult
    sent_at: float  # wall clock, comparable with the worker's finished_at


def enqueue_batch(count: int) -> list[Sent]:
    """`count` diagnostic pings spread over every queue and priority."""
    sent = []
    for number in range(count):
        queue, prio = QUEUES[number % len(QUEUES)], number % 10
        result = app.send_task(
            "diagnostic.ping", kwargs={"payload": {"n": number}}, queue=queue, priority=prio
        )
        sent.append(Sent(number, queue, prio, result, time.time()))
    return sent


def wait_with_progress(batch: list[Sent], console: Console, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with Progress(console=console, transient=False) as progress:
        bar = progress.add_task("tasks", total=len(batch))
        while time.monotonic() < deadline:
            done = sum(item.result.ready() for item in batch)
            progress.update(bar, completed=done)
            if done == len(batch):
                return
            time.sleep(0.1)


def results_table(batch: list[Sent]) -> tuple[Table, bool]:
    """The table of outcomes and whether every task succeeded."""
    table = Table(title="Demo batch")
    for column in ("#", "task", "queue", "priority", "state", "worker pid", "latency ms"):
        table.add_column(column, justify="right" if column != "state" else "left")
    all_ok = True
    for item in batch:
        state = item.result.state
        value: dict[str, Any] = item.result.result if state == "SUCCESS" else {}
        all_ok &= state == "SUCCESS"
        latency_ms = (value.get("finished_at", item.sent_at) - item.sent_at) * 1000
        table.add_row(
            str(item.number),
            "diagnostic.ping",
            item.queue,
            str(item.priority),
            state,
            str(value.get("pid", "-")),
            f"{latency_ms:.0f}" if value else "-",
        )
    return table, all_ok


def run_batch(count: int, console: Console, *, timeout_s: float = 120.0) -> bool:
    """Enqueue, wait, print; True when every task succeeded."""
    batch = enqueue_batch(count)
    wait_with_progress(batch, console, timeout_s=timeout_s)
    table, all_ok = results_table(batch)
    console.print(table)
    console.print("[green]all tasks succeeded[/]" if all_ok else "[red]some tasks failed[/]")
    return all_ok

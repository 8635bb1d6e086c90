"""The demo batch: identify generated photos (some repeated), show progress, print results."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

from celery.result import AsyncResult
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from localkit.samples import sample_png
from tasks.app import app

ORGANS = ("leaf", "flower", "fruit", "bark", "auto")


@dataclass
class Sent:
    """One demo request and its result handle."""

    number: int
    photo: int
    priority: int
    result: AsyncResult


def enqueue_batch(count: int) -> list[Sent]:
    """`count` identifications of 2/3 as many distinct photos: the repeats show cache hits."""
    distinct = max(1, count * 2 // 3)
    sent = []
    for number in range(count):
        photo = number % distinct
        payload = {
            "images": [base64.b64encode(sample_png(photo)).decode()],
            "organs": [ORGANS[photo % len(ORGANS)]],
            "request_id": f"demo-{time.time_ns()}-{number}",
        }
        priority = 9 if number % 5 == 0 else 4  # every fifth is urgent
        result = app.send_task("identification.identify", kwargs=payload, priority=priority)
        sent.append(Sent(number, photo, priority, result))
    return sent


def wait_with_progress(batch: list[Sent], console: Console, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with Progress(console=console) as progress:
        bar = progress.add_task("identifying", total=len(batch))
        while time.monotonic() < deadline:
            done = sum(item.result.ready() for item in batch)
            progress.update(bar, completed=done)
            if done == len(batch):
                return
            time.sleep(0.1)


def results_table(batch: list[Sent]) -> tuple[Table, bool]:
    """The table of outcomes and whether every request succeeded."""
    table = Table(title="Identifications")
    for column in (
        "#",
        "photo",
        "prio",
        "state",
        "top species",
        "p",
        "agreed",
        "sources",
        "cached",
    ):
        table.add_column(column)
    all_ok = True
    for item in batch:
        state = item.result.state
        all_ok &= state == "SUCCESS"
        value: dict[str, Any] = item.result.result if state == "SUCCESS" else {}
        top = (value.get("suggestions") or [{}])[0]
        sources = value.get("sources", {})
        table.add_row(
            str(item.number),
            str(item.photo),
            str(item.priority),
            state,
            top.get("name", "-"),
            f"{top['probability']:.2f}" if "probability" in top else "-",
            "yes" if top.get("agreed") else "no",
            " ".join(f"{name}:{report['status']}" for name, report in sources.items()),
            "hit" if value.get("cached") else "miss",
        )
    return table, all_ok


def run_batch(count: int, console: Console, *, timeout_s: float = 180.0) -> bool:
    """Enqueue, wait, print; True when every request succeeded."""
    batch = enqueue_batch(count)
    wait_with_progress(batch, console, timeout_s=timeout_s)
    table, all_ok = results_table(batch)
    console.print(table)
    hits = sum(item.result.state == "SUCCESS" and item.result.result["cached"] for item in batch)
    console.print(f"{hits} of {len(batch)} answered from the cache")
    console.print("[green]all tasks succeeded[/]" if all_ok else "[red]some tasks failed[/]")
    return all_ok

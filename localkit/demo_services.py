"""The demo's periodic services: wait until beat has run each one, then show their state."""

from __future__ import annotations

import time

from rich.console import Console

from services.background.overview import ServiceView, overview
from tasks import runtime
from tasks.cli_services import table


def print_services(console: Console, *, timeout_s: float = 60.0) -> bool:
    """The services table once every enabled service has run (beat runs a new one at once);
    True when each ran within `timeout_s`."""
    client = runtime.container().redis
    deadline = time.monotonic() + timeout_s
    views = overview(client)
    with console.status("waiting for beat to run every periodic service once"):
        while not _all_ran(views) and time.monotonic() < deadline:
            time.sleep(0.5)
            views = overview(client)
    console.print(table(views))
    return _all_ran(views)


def _all_ran(views: list[ServiceView]) -> bool:
    return all(view.metrics.runs > 0 for view in views if view.config.enabled)

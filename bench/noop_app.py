"""Greenhouse's worker app (tasks.app, celeryconfig) with a no-op on GreenhouseTask."""

from tasks.app import app

__all__ = ["app"]


@app.task(name="bench.greenhouse_noop")
def greenhouse_noop() -> None:
    """A no-op on GreenhouseTask (error classification, priorities, dead letters)."""

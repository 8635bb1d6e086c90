"""The benchmark's worker app: the same configuration, a bare and a Greenhouse no-op."""

from celery import Task

from tasks.app import app

__all__ = ["app"]


@app.task(name="bench.bare_noop", base=Task)
def bare_noop() -> None:
    """A stock celery.Task: the baseline."""


@app.task(name="bench.greenhouse_noop")
def greenhouse_noop() -> None:
    """The same no-op on GreenhouseTask (error classification, priorities, dead letters)."""

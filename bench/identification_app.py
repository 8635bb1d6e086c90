"""The identification benchmark's worker app: Greenhouse's app plus a bare no-op baseline."""

from celery import Task

from tasks.app import app  # celeryconfig's include registers identification.identify

__all__ = ["app"]


@app.task(name="bench.bare_noop_ident", base=Task)
def bare_noop_ident() -> None:
    """A stock celery.Task doing nothing: the floor for a cache-hit identification."""

"""Greenhouse task entry points; `celery -A tasks` finds the app here.

The app is imported on first use, so `greenhouse --help` (tasks.cli) starts nothing.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "app":
        from tasks.app import app

        return app
    raise AttributeError(name)

"""Greenhouse task entry points; `celery -A tasks` finds the app here."""

from tasks.app import app

__all__ = ["app"]

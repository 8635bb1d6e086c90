"""Which class runs each periodic service, by name; each name's defaults live in beat_schedule.py.

A service module exposes `build(container, config) -> BackgroundService`; modules are imported
on first use, so a worker that runs no service imports none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

from beat_schedule import SERVICES
from services.background.base import BackgroundService
from services.background.config import ServiceConfig, defaults
from services.errors import ValidationError

if TYPE_CHECKING:
    from services.bootstrap import Container

BUILDERS: dict[str, str] = {
    "stats-warmer": "services.background.warmer:build",
    "health-monitor": "services.background.monitor:build",
    "retention": "services.background.retention:build",
    "quota-reporter": "services.background.reporter:build",
    "dead-letter-recovery": "services.background.recovery:build",
}


class Builder(Protocol):
    def __call__(self, container: Container, config: ServiceConfig) -> BackgroundService: ...


def names() -> list[str]:
    return sorted(BUILDERS)


def default_config(name: str) -> ServiceConfig:
    """`name`'s configuration as beat_schedule.py declares it; unknown names are refused."""
    if name not in BUILDERS:
        raise ValidationError(f"no service {name!r}; there are: {', '.join(names())}")
    return defaults(name, SERVICES[name])


def build(container: Container, config: ServiceConfig) -> BackgroundService:
    module, _, attribute = BUILDERS[config.name].partition(":")
    builder: Builder = getattr(importlib.import_module(module), attribute)
    return builder(container, config)

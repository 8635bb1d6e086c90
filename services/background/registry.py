"""Which class runs each periodic service, by name, with its defaults (beat_schedule.py's for
the built-in ones).

A service module exposes `build(container, config) -> BackgroundService`; modules are imported
on first use, so a worker that runs no service imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import redis

from beat_schedule import SERVICES
from services.background.base import BackgroundService
from services.background.config import ConfigStore, ServiceConfig, defaults
from services.errors import ValidationError

if TYPE_CHECKING:
    from services.bootstrap import Container


class Builder(Protocol):
    def __call__(self, container: Container, config: ServiceConfig) -> BackgroundService: ...


_builders: dict[str, str] = {}
_defaults: dict[str, Mapping[str, Any]] = {}


def register(name: str, builder: str, declared: Mapping[str, Any]) -> None:
    """Make `name` runnable: `builder` is "module:function"; `declared` its default interval,
    policy and options (as in beat_schedule.SERVICES)."""
    _builders[name], _defaults[name] = builder, declared


def names() -> list[str]:
    return sorted(_builders)


def default_config(name: str) -> ServiceConfig:
    """`name`'s configuration as declared; unknown names are refused."""
    if name not in _builders:
        raise ValidationError(f"no service {name!r}; there are: {', '.join(names())}")
    return defaults(name, _defaults[name])


def live_config(client: redis.Redis, name: str) -> ServiceConfig:
    """`name`'s configuration now: its declared defaults with the overrides operators stored."""
    return ConfigStore(client).load(default_config(name))


def build(container: Container, config: ServiceConfig) -> BackgroundService:
    module, _, attribute = _builders[config.name].partition(":")
    builder: Builder = getattr(importlib.import_module(module), attribute)
    return builder(container, config)


def check(config: ServiceConfig) -> None:
    """The service's own check of settings that go together (its module's `check`, if any)."""
    module = importlib.import_module(_builders[config.name].partition(":")[0])
    if (checker := getattr(module, "check", None)) is not None:
        checker(config)


for _name, _module in {
    "stats-warmer": "warmer",
    "health-monitor": "monitor",
    "retention": "retention",
    "quota-reporter": "reporter",
    "dead-letter-recovery": "recovery",
    "moderation": "moderation",
}.items():
    register(_name, f"services.background.{_module}:build", SERVICES[_name])

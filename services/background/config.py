"""Each periodic service's live configuration: defaults from beat_schedule.py, overrides that
operators store in Redis (`greenhouse services set NAME key=value`), read again at every run."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import redis

from services.background.lifecycle import Policy
from services.background.state import text
from services.errors import ValidationError

_POLICY = tuple(f.name for f in fields(Policy))


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    """What a service runs with: whether it runs, its policy (interval, failure budget, retry
    delays) and its own options."""

    name: str
    enabled: bool = True
    policy: Policy
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        policy = {name: getattr(self.policy, name) for name in _POLICY}
        return {"enabled": self.enabled, **policy, "options": dict(self.options)}


def defaults(name: str, declared: Mapping[str, Any]) -> ServiceConfig:
    """The configuration beat_schedule.py declares for `name`."""
    policy = {key: _as_declared(key, declared[key]) for key in _POLICY if key in declared}
    return ServiceConfig(
        name=name,
        enabled=declared.get("enabled", True),
        policy=Policy(**policy),
        options=dict(declared.get("options", {})),
    )


def apply(config: ServiceConfig, overrides: Mapping[str, Any]) -> ServiceConfig:
    """`config` with `overrides` (policy fields, `enabled` or option names) checked and applied;
    a key the service does not have, or a value of the wrong type, is a ValidationError."""
    policy: dict[str, Any] = {}
    options = dict(config.options)
    enabled = config.enabled
    for key, value in overrides.items():
        if key == "enabled":
            enabled = _typed(key, value, True)
        elif key in _POLICY:
            policy[key] = _typed(key, value, getattr(config.policy, key))
        elif key in options:
            options[key] = _typed(key, value, options[key])
        else:
            known = ", ".join(["enabled", *_POLICY, *sorted(options)])
            raise ValidationError(f"{config.name} has no setting {key!r}; it has: {known}")
    checked = replace(config.policy, **policy)
    if checked.interval_s <= 0 or checked.max_failures < 1 or checked.retry_delay_s < 0:
        raise ValidationError(
            f"{config.name}: interval_s must be > 0, max_failures ≥ 1, retry_delay_s ≥ 0"
        )
    return replace(config, enabled=enabled, policy=checked, options=options)


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """`["interval_s=30", "enabled=false", "tags=[1,2]"]` → values (JSON where it parses,
    else the plain string)."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"expected key=value, got {pair!r}")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return values


class ConfigStore:
    """Overrides in the Redis hash `greenhouse:service-config:<name>` (one JSON value per key)."""

    def __init__(self, client: redis.Redis, *, prefix: str = "greenhouse:service-config") -> None:
        self._redis = client
        self._prefix = prefix

    def overrides(self, name: str) -> dict[str, Any]:
        stored = self._redis.hgetall(f"{self._prefix}:{name}")
        return {text(key) or "": json.loads(value) for key, value in stored.items()}

    def load(self, config: ServiceConfig) -> ServiceConfig:
        """`config` (the defaults) with the stored overrides; an override the service no longer
        has (renamed in a release) is ignored rather than stopping the service."""
        current = config
        for key, value in self.overrides(config.name).items():
            try:
                current = apply(current, {key: value})
            except ValidationError:
                continue
        return current

    def set(
        self,
        config: ServiceConfig,
        values: Mapping[str, Any],
        *,
        check: Callable[[ServiceConfig], None] | None = None,
    ) -> ServiceConfig:
        """Check `values` against the service (and `check`) and store them; the configuration
        now in force."""
        updated = apply(self.load(config), values)
        if check is not None:
            check(updated)
        mapping = {key: json.dumps(value) for key, value in values.items()}
        self._redis.hset(f"{self._prefix}:{config.name}", mapping=mapping)  # type: ignore[arg-type]
        return updated


def _typed(key: str, value: Any, like: Any) -> Any:
    """`value` as the type of `like` (the default), or a ValidationError naming both."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false", "on", "off"}:
            return value.lower() in {"true", "on"}
    elif isinstance(like, int):
        if number and value == int(value):
            return int(value)
    elif isinstance(like, float):
        if number:
            return float(value)
    elif like is None or isinstance(value, type(like)):
        return value
    raise ValidationError(f"{key} must be like {like!r}, got {value!r}")


def _as_declared(key: str, value: Any) -> Any:
    """Policy values as Policy types them (`interval_s: 20` declares a float)."""
    return int(value) if key == "max_failures" else float(value)

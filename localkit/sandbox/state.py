"""The sandbox's shared state: call counts, per-provider knobs and the PlantNet quota."""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass
from typing import Any

from localkit.sandbox import formats

PROVIDERS = ("plant_id", "plantnet")


class ConfigError(ValueError):
    """A knob change names an unknown provider or knob, or has a bad value."""


@dataclass(frozen=True)
class Knobs:
    """How one provider misbehaves; the defaults answer at once and correctly."""

    latency_ms: float = 0
    error_rate: float = 0.0
    rate_limit_retry_after_s: float | None = None
    hang_s: float = 0.0
    trickle_s: float = 0.0  # the answer's body arrives a byte at a time over this long
    not_a_plant: bool = False
    broken_body: str | None = None  # "html": a 200 maintenance page; "gzip": a garbled body

    def fails(self, call: int) -> bool:
        """Whether call number `call` (from 1) gets an injected 500; spread evenly, no dice."""

        def due(n: int) -> int:
            return math.floor(n * self.error_rate + 1e-9)  # 1e-9: 10 * 0.1 is one whole failure

        return due(call) > due(call - 1)


def _checked(where: str, name: str, value: object) -> object:
    if name == "not_a_plant":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{name} must be true or false")
        return value
    if name == "rate_limit_retry_after_s" and value is None:
        return None
    if name == "broken_body":
        if value not in (None, "html", "gzip"):
            raise ConfigError(f'{where}.{name} must be null, "html" or "gzip"')
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}.{name} must be a number >= 0")
    if name == "error_rate" and value > 1:
        raise ConfigError(f"{where}.{name} must be between 0 and 1")
    return value


class SandboxState:
    """Call counts, knobs and the PlantNet quota, shared by all handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._calls = dict.fromkeys(PROVIDERS, 0)
            self._failed = dict.fromkeys(PROVIDERS, 0)
            self._knobs = {provider: Knobs() for provider in PROVIDERS}
            self._remaining = formats.PLANTNET_QUOTA

    def begin(self, provider: str) -> tuple[int, Knobs]:
        """Count a call; return its number and the knobs it runs under."""
        with self._lock:
            self._calls[provider] += 1
            return self._calls[provider], self._knobs[provider]

    def spend_plantnet_request(self) -> int:
        with self._lock:
            self._remaining = max(0, self._remaining - 1)
            return self._remaining

    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def count_failure(self, provider: str) -> None:
        """Count a call answered with an injected error (500 or 429)."""
        with self._lock:
            self._failed[provider] += 1

    def failures(self) -> dict[str, int]:
        with self._lock:
            return dict(self._failed)

    def knobs(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {provider: dataclasses.asdict(k) for provider, k in self._knobs.items()}

    def configure(self, changes: object) -> dict[str, dict[str, Any]]:
        """Merge `{"plant_id": {...}, "plantnet": {...}}` into the knobs, all or nothing."""
        if not isinstance(changes, dict):
            raise ConfigError("config must be a JSON object keyed by provider")
        names = [field.name for field in dataclasses.fields(Knobs)]
        checked: dict[str, dict[str, Any]] = {}
        for provider, knobs in changes.items():
            if provider not in PROVIDERS:
                raise ConfigError(f"unknown provider: {provider} (known: {', '.join(PROVIDERS)})")
            if not isinstance(knobs, dict):
                raise ConfigError(f"{provider} must be a JSON object of knobs")
            unknown = sorted(knobs.keys() - set(names))
            if unknown:
                raise ConfigError(
                    f"unknown knob: {provider}.{unknown[0]} (known: {', '.join(names)})"
                )
            checked[provider] = {n: _checked(provider, n, v) for n, v in knobs.items()}
        with self._lock:
            for provider, values in checked.items():
                self._knobs[provider] = dataclasses.replace(self._knobs[provider], **values)
        return self.knobs()

"""The sandbox's shared state: call counts, per-provider knobs, quotas and traffic."""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass
from typing import Any, TypeGuard

from localkit.sandbox import formats
from localkit.sandbox.quota import DailyQuota
from localkit.sandbox.traffic import Traffic

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
    daily_quota: int | None = None  # answers a day (UTC), then 429 until midnight
    max_rps: float | None = None  # calls admitted a second, then 429 with Retry-After

    def fails(self, call: int) -> bool:
        """Whether call number `call` (from 1) gets an injected 500; spread evenly, no dice."""

        def due(n: int) -> int:
            return math.floor(n * self.error_rate + 1e-9)  # 1e-9: 10 * 0.1 is one whole failure

        return due(call) > due(call - 1)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked(where: str, name: str, value: object) -> object:
    if name == "not_a_plant":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{name} must be true or false")
        return value
    if name in ("rate_limit_retry_after_s", "daily_quota", "max_rps") and value is None:
        return None
    if name == "daily_quota" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}.{name} must be a whole number >= 0 or null")
    if name == "max_rps" and not (_is_number(value) and value > 0):
        raise ConfigError(f"{where}.{name} must be a number > 0 or null")
    if name == "broken_body":
        if value not in (None, "html", "gzip"):
            raise ConfigError(f'{where}.{name} must be null, "html" or "gzip"')
        return value
    if not _is_number(value) or value < 0:
        raise ConfigError(f"{where}.{name} must be a number >= 0")
    if name == "error_rate" and value > 1:
        raise ConfigError(f"{where}.{name} must be between 0 and 1")
    return value


@dataclass(frozen=True)
class Refusal:
    """A 429 answered before any work: its body and headers."""

    body: dict[str, Any]
    headers: dict[str, str]


class SandboxState:
    """Call counts, knobs, quotas and traffic, shared by all handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._quota = DailyQuota(PROVIDERS)
        self._traffic = Traffic(PROVIDERS)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._calls = dict.fromkeys(PROVIDERS, 0)
            self._failed = dict.fromkeys(PROVIDERS, 0)
            self._knobs = {provider: Knobs() for provider in PROVIDERS}
            self._quota.reset()
            self._traffic.reset()

    def begin(self, provider: str) -> tuple[int, Knobs]:
        """Count a call, now in flight; return its number and the knobs it runs under."""
        with self._lock:
            self._calls[provider] += 1
            self._traffic.arrive(provider)
            return self._calls[provider], self._knobs[provider]

    def end(self, provider: str) -> None:
        """The call begun is answered (or its client left)."""
        with self._lock:
            self._traffic.leave(provider)

    def refusal(self, provider: str, knobs: Knobs) -> Refusal | None:
        """The 429 a call gets at once: over `max_rps`, or `daily_quota` spent; else None."""
        with self._lock:
            if knobs.max_rps is not None:
                wait_s = self._traffic.over_rate(provider, knobs.max_rps)
                if wait_s is not None:
                    body = formats.rate_limited(provider)
                    return Refusal(body, {"Retry-After": str(max(1, math.ceil(wait_s)))})
            if self._quota.exhausted(provider, knobs.daily_quota):
                return Refusal(self._quota.refusal(provider, knobs.daily_quota), {})
        return None

    def spend(self, provider: str) -> int | None:
        """Count an answer against the provider's quota; what is left (None: no limit)."""
        with self._lock:
            return self._quota.spend(provider, self._knobs[provider].daily_quota)

    def spend_plantnet_request(self) -> int:
        return self.spend("plantnet") or 0

    def quota_headers(self, provider: str) -> dict[str, str]:
        with self._lock:
            return self._quota.headers(provider, self._knobs[provider].daily_quota)

    def usage_info(self, provider: str) -> dict[str, Any]:
        with self._lock:
            return self._quota.usage_info(provider, self._knobs[provider].daily_quota)

    def concurrency(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return self._traffic.concurrency()

    def timeline(self) -> dict[str, Any]:
        with self._lock:
            return self._traffic.timeline()

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

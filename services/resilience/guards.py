"""What the services need of a guard; the Redis-backed ones and harness/fakes.py both fit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Breaker(Protocol):
    """Runs a call unless its upstream is known to be failing (then raises BreakerOpen)."""

    def call(self, func: Callable[..., T], *args: object, **kwargs: object) -> T: ...

    @property
    def current_state(self) -> str:
        """closed, open or half_open."""
        ...


class Flight(Protocol):
    """A value from the cache, or computed once while identical requests wait for it."""

    def get_or_compute(
        self, key: str, compute: Callable[[], Any], *, ttl_s: Callable[[Any], int] | None = None
    ) -> tuple[Any, bool]: ...

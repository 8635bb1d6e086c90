"""What arrives at the sandbox, per provider: arrival times, calls in flight and the most at
once, and the calls admitted under a `max_rps` knob. Callers hold the state's lock."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

KEPT_ARRIVALS = 100_000  # per provider: minutes of a benchmark's traffic, bounded memory


class Traffic:
    """Per-provider counters on the sandbox's monotonic clock (seconds)."""

    def __init__(
        self, providers: Iterable[str], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._providers = tuple(providers)
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self._arrivals = {p: deque[float](maxlen=KEPT_ARRIVALS) for p in self._providers}
        self._admitted = {p: deque[float]() for p in self._providers}
        self._in_flight = dict.fromkeys(self._providers, 0)
        self._most = dict.fromkeys(self._providers, 0)

    def arrive(self, provider: str) -> None:
        """A call came in and is now in flight."""
        self._arrivals[provider].append(self._clock())
        self._in_flight[provider] += 1
        self._most[provider] = max(self._most[provider], self._in_flight[provider])

    def leave(self, provider: str) -> None:
        """Its answer went out (or the client left)."""
        self._in_flight[provider] -= 1

    def over_rate(self, provider: str, max_rps: float) -> float | None:
        """Seconds until a call fits when `max_rps` calls were admitted in the last second
        (one in the last 1/max_rps seconds below one a second); else admit it: None."""
        window_s = max(1.0, 1.0 / max_rps)
        allowed = max(1, math.floor(max_rps * window_s + 1e-9))
        now = self._clock()
        admitted = self._admitted[provider]
        while admitted and admitted[0] <= now - window_s:
            admitted.popleft()
        if len(admitted) >= allowed:
            return admitted[0] + window_s - now
        admitted.append(now)
        return None

    def concurrency(self) -> dict[str, dict[str, int]]:
        return {
            p: {"in_flight": self._in_flight[p], "max_in_flight": self._most[p]}
            for p in self._providers
        }

    def timeline(self) -> dict[str, Any]:
        """Arrival times per provider, and `now`, all on the sandbox's monotonic clock."""
        arrivals = {p: list(self._arrivals[p]) for p in self._providers}
        return {"now": self._clock(), "arrivals": arrivals}

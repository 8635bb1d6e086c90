"""What a worker costs: Redis commands as the server counts them, and CPU of a process tree."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import psutil
import redis


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants, living or reaped."""
    root = psutil.Process(pid)
    times = root.cpu_times()
    # children_*: pool processes that exited and were waited for (replaced children).
    total = times.user + times.system + times.children_user + times.children_system
    for child in root.children(recursive=True):
        try:
            child_times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue  # exited meanwhile: its time is in its parent's children_* next time
        total += child_times.user + child_times.system
    return total


class Probe:
    """A measuring client on one Redis server: reads INFO commandstats and leaves its own
    commands out of every count it returns."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._own: Counter[str] = Counter()

    def commands(self) -> Counter[str]:
        """Calls per command (lower case) the server has run, less this probe's own so far."""
        stats = self._redis.info("commandstats")
        calls = Counter({key.removeprefix("cmdstat_"): int(v["calls"]) for key, v in stats.items()})
        calls.subtract(self._own)
        self._own["info"] += 1  # the server counts an INFO after answering it: in the next read
        return calls

    def hlen(self, key: str) -> int:
        self._own["hlen"] += 1
        return int(self._redis.hlen(key))

    def wait_until_empty(self, key: str, *, timeout_s: float, every_s: float = 0.005) -> None:
        """Poll until the hash `key` is empty (each poll is one HLEN, left out of the counts)."""
        deadline = time.monotonic() + timeout_s
        while self.hlen(key):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{key} still holds messages after {timeout_s}s")
            time.sleep(every_s)

    def close(self) -> None:
        self._redis.close()


def difference(after: Counter[str], before: Counter[str]) -> Counter[str]:
    """Calls run between two reads, per command (zero and negative counts dropped)."""
    delta = Counter(after)
    delta.subtract(before)
    return +delta


@dataclass
class Background:
    """What an idle worker costs per second, subtracted from every round."""

    commands_per_s: dict[str, float]
    cpu_s_per_s: float

    @classmethod
    def measure(cls, probe: Probe, cpu: Callable[[], float], *, idle_s: float) -> Background:
        before, cpu_before, started = probe.commands(), cpu(), time.monotonic()
        time.sleep(idle_s)  # the quantity measured is a rate over time: this is the window
        after, cpu_after = probe.commands(), cpu()
        elapsed = time.monotonic() - started
        rates = {name: n / elapsed for name, n in difference(after, before).items()}
        return cls(rates, (cpu_after - cpu_before) / elapsed)

    def commands_over(self, seconds: float) -> dict[str, float]:
        return {name: rate * seconds for name, rate in self.commands_per_s.items()}

    @property
    def total_per_s(self) -> float:
        return sum(self.commands_per_s.values())

"""What beat sent, read from the broker's queues in Redis (tests run beat without a worker, so
every message it sends stays queued and can be counted)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Sent:
    """One message beat sent: its entry, the tick it was for, the beat that sent it, when."""

    entry: str
    tick: float
    beat: str
    sent_at: float


def sent(client: redis.Redis, *, queue: str = "maintenance") -> list[Sent]:
    """Every message beat sent to `queue` (all its priority steps), oldest first."""
    found = []
    for key in client.scan_iter(match=f"{queue}*", count=1000):
        if client.type(key) not in (b"list", "list"):
            continue
        for raw in client.lrange(key, 0, -1):
            stamp = json.loads(raw)["headers"].get("greenhouse_tick")
            if stamp:
                found.append(Sent(stamp["entry"], stamp["tick"], stamp["beat"], stamp["sent_at"]))
    return sorted(found, key=lambda s: s.sent_at)


def of(entry: str, messages: list[Sent]) -> list[Sent]:
    return [m for m in messages if m.entry == entry]


def gaps_s(messages: list[Sent]) -> list[float]:
    """Seconds between consecutive sends (a tick sent twice shows as a gap near zero)."""
    return [b.sent_at - a.sent_at for a, b in itertools.pairwise(messages)]

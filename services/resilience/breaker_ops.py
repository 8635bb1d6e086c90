"""Operators' hands on the shared breakers: read each one's state, close one by hand."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import redis

from services.resilience.breaker_state import CLOSED

KEY = "greenhouse:breaker:{name}"
PROVIDERS = ["plant_id", "plantnet"]  # every breaker Greenhouse keeps: one per provider
# KEYS: the hash, then its trial permits. A reset is a transition like any other: the generation
# moves on, so outcomes of calls admitted before it count for nothing, and permits go.
_RESET = """
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') + 1
redis.call('HSET', KEYS[1], 'state', 'closed', 'gen', gen, 'failures', 0)
redis.call('HDEL', KEYS[1], 'opened_ms')
for slot = 2, #KEYS do redis.call('DEL', KEYS[slot]) end
return gen
"""


@dataclass(frozen=True, kw_only=True)
class BreakerView:
    """One breaker as every process sees it."""

    name: str
    state: str  # closed, open, half_open
    failures: int  # in a row, while closed
    open_for_s: float | None  # since it last opened (open or half-open)
    generation: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read(client: redis.Redis, names: list[str]) -> list[BreakerView]:
    """Each named breaker's state, on Redis's clock; a breaker never tripped reads closed."""
    seconds, micros = client.time()
    now_ms = seconds * 1000 + micros // 1000
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hmget(KEY.format(name=name), ["state", "failures", "opened_ms", "gen"])
    views = []
    for name, (state, failures, opened_ms, gen) in zip(names, pipe.execute(), strict=True):
        state = state.decode() if isinstance(state, bytes) else (state or CLOSED)
        open_for = None if state == CLOSED or not opened_ms else (now_ms - int(opened_ms)) / 1000
        views.append(
            BreakerView(
                name=name,
                state=state,
                failures=int(failures or 0),
                open_for_s=open_for,
                generation=int(gen or 0),
            )
        )
    return views


def reset(client: redis.Redis, name: str, *, trial_permits: int) -> int:
    """Close the breaker `name` now (the next call goes through); its new generation."""
    key = KEY.format(name=name)
    keys = [key] + [f"{key}:trial:{n}" for n in range(trial_permits)]
    return int(client.register_script(_RESET)(keys=keys))

"""What a provider says is left of its quota: PlantNet's RateLimit headers, Plant.id's usage_info.

PlantNet sends the IETF draft-08 headers on each identification (my.plantnet.org/doc/api/quota):
`RateLimit-Policy: "dailyQuota";q=500;w=86400;pk=:…:` and `RateLimit: "dailyQuota";r=499;t=3600;…`
(r remaining, t seconds to the reset at 00:00 UTC). Older drafts' `RateLimit-Remaining` /
`RateLimit-Limit` / `RateLimit-Reset` and the common `X-RateLimit-*` are read too. Plant.id
documents no quota headers; `GET /v3/usage_info` answers `credit_limits`, `used` and
`remaining`, each per day, week, month and total (null where no limit applies).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WINDOWS = ("day", "week", "month", "total")


@dataclass(frozen=True, kw_only=True)
class Allowance:
    """Calls left; `limit` and `reset_s` when the provider says."""

    remaining: int
    limit: int | None = None
    reset_s: float | None = None


def from_headers(headers: Mapping[str, str]) -> Allowance | None:
    """The tightest quota the headers state, or None when they state none."""
    state = _items(headers.get("RateLimit", ""))
    if state:
        policies = _items(headers.get("RateLimit-Policy", ""))
        name, params = min(state.items(), key=lambda item: item[1].get("r", float("inf")))
        remaining = params.get("r")
        if remaining is not None:
            limit = policies.get(name, {}).get("q")
            return Allowance(remaining=int(remaining), limit=_whole(limit), reset_s=params.get("t"))
    for prefix in ("RateLimit-", "X-RateLimit-"):
        remaining = _number(headers.get(prefix + "Remaining"))
        if remaining is not None:
            return Allowance(
                remaining=int(remaining),
                limit=_whole(_number(headers.get(prefix + "Limit"))),
                reset_s=_number(headers.get(prefix + "Reset")),
            )
    return None


def from_usage_info(body: Any) -> Allowance | None:
    """Plant.id's binding window (least remaining) from a usage_info answer; None if unlimited."""
    try:
        limits, remaining = body["credit_limits"], body["remaining"]
        windows = [
            Allowance(remaining=max(0, int(remaining[w])), limit=int(limits[w]))
            for w in WINDOWS
            if limits.get(w) is not None and remaining.get(w) is not None
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return min(windows, key=lambda window: window.remaining, default=None)


def _items(field: str) -> dict[str, dict[str, float]]:
    """A structured-field list (`"name";a=1;b=2, "other";a=3`) → {name: {param: number}}."""
    items: dict[str, dict[str, float]] = {}
    for member in field.split(","):
        name, *params = (part.strip() for part in member.split(";"))
        if not name:
            continue
        values = {}
        for param in params:
            key, _, value = param.partition("=")
            number = _number(value)
            if number is not None:
                values[key.strip()] = number
        items[name.strip('"')] = values
    return items


def _number(value: str | None) -> float | None:
    try:
        number = float(value.strip()) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def _whole(value: float | None) -> int | None:
    return int(value) if value is not None else None

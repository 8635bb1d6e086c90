"""Why a task failed for good, kept with its dead letter: whether replaying it could succeed once
an upstream has recovered, and which upstreams that depends on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.errors import TransientError, classify
from services.resilience.breaker import BreakerOpen

UPSTREAM = "upstream"  # a provider failed for a while (5xx, timeout, 429, its breaker open)
TRANSIENT = "transient"  # transient, but ours: Redis, the database, the broker, a time limit
PERMANENT = "permanent"  # retrying cannot help: bad input, a request refused, a bug

# Tasks whose own TransientError means their providers failed, every one of them:
# identification answers as long as any provider does (services/identification/service.py).
CALLS_PROVIDERS = frozenset({"identification.identify"})


@dataclass(frozen=True)
class Cause:
    """A final failure's kind, and the upstreams whose recovery a replay waits for."""

    kind: str
    upstreams: tuple[str, ...] = ()


def cause_of(task_name: str, error: BaseException, *, providers: Iterable[str]) -> Cause:
    """The cause of `task_name`'s final `error`; `providers` are the upstreams it calls."""
    if not classify(error).transient:
        return Cause(PERMANENT)
    if isinstance(error, BreakerOpen):
        return Cause(UPSTREAM, (error.breaker,))
    upstreams = tuple(sorted(providers))
    if isinstance(error, TransientError) and task_name in CALLS_PROVIDERS and upstreams:
        return Cause(UPSTREAM, upstreams)
    return Cause(TRANSIENT)

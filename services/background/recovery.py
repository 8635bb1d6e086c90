"""Dead-letter recovery: a task that failed for good because its upstream was down (breaker
open, retries spent on 5xx or timeouts) is replayed once, automatically, after the breakers of
every upstream it depends on have closed again; at most `max_per_run` a run, oldest first.

Each letter is claimed in the database before it is published (at most one of racing runs
replays it) and done or failed on its own: a replay that cannot be published gives its claim
back for the next run. A letter that is itself a replay is left to an operator, so a task that
keeps failing is not replayed in a loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from celery import current_app

from services.background.base import BackgroundService
from services.background.config import ServiceConfig
from services.background.lifecycle import Policy
from services.delivery.deadletters import DeadLetter
from services.delivery.recoverable import RecoverableLetters
from services.delivery.replay import Publish, publisher
from services.resilience.breaker_state import CLOSED

if TYPE_CHECKING:
    from services.bootstrap import Container

log = logging.getLogger(__name__)
PAGE = 200  # letters read at a time while looking for ones whose upstreams have recovered
REPLAYED, TAKEN, FAILED = "replayed", "taken", "failed"


class Letters(Protocol):
    """What recovery needs of the dead-letter table (services/delivery/recoverable.py)."""

    def awaiting_recovery(
        self, *, since: datetime, after_id: int, limit: int
    ) -> list[DeadLetter]: ...

    def claim(self, letter_id: int) -> bool: ...

    def release(self, letter_id: int) -> None: ...

    def mark_replayed(self, letter_id: int, *, replay_task_id: str) -> None: ...


class DeadLetterRecovery(BackgroundService):
    """One run replays the letters whose upstreams are all closed; `items` is how many."""

    def __init__(
        self,
        service_id: str,
        *,
        policy: Policy,
        options: Mapping[str, Any] | None = None,
        letters: Letters,
        publish: Publish,
        breaker_states: Callable[[], Mapping[str, str]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(service_id, policy=policy, options=options)
        self._letters = letters
        self._publish = publish
        self._breaker_states = breaker_states
        self._clock = clock
        self._last: dict[str, Any] = {}

    def update(self) -> int:
        closed = {name for name, state in self._breaker_states().items() if state == CLOSED}
        limit = int(self.options["max_per_run"])
        counts = dict.fromkeys((REPLAYED, FAILED, TAKEN, "waiting"), 0)
        if closed:  # with every breaker still open nothing can go: skip reading the table
            for letter in self._candidates():
                if counts[REPLAYED] + counts[FAILED] >= limit:
                    break
                if set(letter.upstreams) <= closed:
                    counts[self._replay(letter)] += 1
                else:
                    counts["waiting"] += 1  # never while open or half-open: it would fail again
        self._last = {**counts, "breakers_closed": sorted(closed)}
        return counts[REPLAYED]

    def health(self) -> dict[str, Any]:
        return dict(self._last)

    def _candidates(self) -> Iterator[DeadLetter]:
        since = self._clock() - timedelta(seconds=float(self.options["max_age_s"]))
        after_id = 0
        while page := self._letters.awaiting_recovery(since=since, after_id=after_id, limit=PAGE):
            yield from page
            after_id = page[-1].id or 0

    def _replay(self, letter: DeadLetter) -> str:
        """Claim and replay `letter`: replayed, taken (by another run) or failed."""
        letter_id = letter.id or 0  # read from the table: it has one
        if not self._letters.claim(letter_id):
            return TAKEN
        try:
            task_id = self._publish(letter)
        except Exception as exc:
            log.warning(
                "dead letter %s (%s) could not be replayed (%s: %s); the next run tries again",
                letter_id,
                letter.task_name,
                type(exc).__name__,
                exc,
            )
            self._letters.release(letter_id)
            return FAILED
        log.warning(
            "dead letter %s replayed as %s[%s]: its upstreams (%s) are closed again",
            letter_id,
            letter.task_name,
            task_id,
            ", ".join(letter.upstreams),
        )
        # Published: should recording it fail, the claim stays, so it is never sent twice.
        self._letters.mark_replayed(letter_id, replay_task_id=task_id)
        return REPLAYED


def breaker_states(container: Container) -> Callable[[], Mapping[str, str]]:
    """Each provider's breaker state now."""
    return lambda: {name: breaker.current_state for name, breaker in container.breakers.items()}


def build(container: Container, config: ServiceConfig) -> DeadLetterRecovery:
    return DeadLetterRecovery(
        config.name,
        policy=config.policy,
        options=config.options,
        letters=RecoverableLetters(container.sessions),
        publish=publisher(current_app),  # the app this worker runs (services never import tasks)
        breaker_states=breaker_states(container),
    )

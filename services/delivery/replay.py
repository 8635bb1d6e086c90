"""Replaying a dead letter: its task enqueued again with its original arguments, queue and
priority, under a new task id that is recorded on the letter. Operators (`greenhouse dead-letters
replay`) and dead-letter recovery both replay this way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from services.delivery.deadletters import DeadLetter

# A message header naming the letter a task replays: if the replay fails for good too, its own
# letter says so, and recovery leaves it to an operator instead of replaying in a loop.
REPLAY_OF_HEADER = "greenhouse_replay_of"

Publish = Callable[[DeadLetter], str]  # enqueue the letter's task; the new task id


class Replayed(Protocol):
    """Where a replay is recorded (any DeadLetterStore)."""

    def mark_replayed(self, letter_id: int, *, replay_task_id: str) -> None: ...


def publisher(app: Any) -> Publish:
    """Publish through the Celery `app` (its routes, publish hooks and priority scale)."""

    def publish(letter: DeadLetter) -> str:
        result = app.send_task(
            letter.task_name,
            args=letter.args,
            kwargs=letter.kwargs,
            queue=letter.queue,
            priority=letter.priority,
            headers={REPLAY_OF_HEADER: letter.id},
        )
        return str(result.id)

    return publish


def replay(store: Replayed, letter: DeadLetter, publish: Publish) -> str:
    """Enqueue `letter`'s task again and record the new task id on the letter; that id."""
    if letter.id is None:
        raise ValueError("only a stored dead letter can be replayed")
    task_id = publish(letter)
    store.mark_replayed(letter.id, replay_task_id=task_id)
    return task_id


def replay_of(request: Any) -> int | None:
    """The letter a running task replays (from its request's headers), if any."""
    value = request.get(REPLAY_OF_HEADER) if request is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None

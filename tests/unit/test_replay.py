"""A replay sends the letter's own task again, marked as a replay of it, and records it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from celery.app.task import Context

from harness.fakes import FakeDeadLetters
from services.delivery.deadletters import DeadLetter
from services.delivery.replay import REPLAY_OF_HEADER, publisher, replay, replay_of

LETTER = DeadLetter(
    id=4,
    task_id="t-4",
    task_name="identification.identify",
    args=[1],
    kwargs={"images": ["aGVsbG8="]},
    queue="identification",
    priority=7,
    error_type="TransientError",
    error_message="no provider answered",
    attempts=6,
    failed_at=datetime(2026, 1, 2, tzinfo=UTC),
)


@dataclass
class Sent:
    id: str


class FakeApp:
    """Celery's send_task, recorded."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send_task(self, name: str, **options: Any) -> Sent:
        self.sent.append((name, options))
        return Sent(f"new-{len(self.sent)}")


def test_a_replay_sends_the_original_task_and_records_its_new_id() -> None:
    app, store = FakeApp(), FakeDeadLetters()
    assert replay(store, LETTER, publisher(app)) == "new-1"
    assert app.sent == [
        (
            "identification.identify",
            {
                "args": [1],
                "kwargs": {"images": ["aGVsbG8="]},
                "queue": "identification",
                "priority": 7,
                "headers": {REPLAY_OF_HEADER: 4},
            },
        )
    ]
    assert store.replayed == {4: "new-1"}


def test_a_letter_not_yet_in_the_table_cannot_be_replayed() -> None:
    with pytest.raises(ValueError, match="stored"):
        replay(FakeDeadLetters(), replace(LETTER, id=None), publisher(FakeApp()))


def test_a_task_knows_the_letter_it_replays_from_its_request_headers() -> None:
    assert replay_of(Context({"id": "x", REPLAY_OF_HEADER: 4})) == 4
    assert replay_of(Context({"id": "x"})) is None
    assert replay_of(Context({"id": "x", REPLAY_OF_HEADER: "4; DROP TABLE"})) is None

"""Task events on a real worker: none until something asks, then every task's."""

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from harness.observe import eventually
from harness.workers import Workers
from tasks.app import app


class TaskEvents:
    """Task events seen on the broker's event exchange, from a receiver thread."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self._connection = app.connection_for_read()
        self._receiver = app.events.Receiver(
            self._connection, handlers={"*": self.seen.append}, node_id=uuid.uuid4().hex
        )
        self._thread = threading.Thread(target=self._capture, daemon=True)

    def _capture(self) -> None:
        with contextlib.suppress(Exception):  # closed at teardown
            self._receiver.capture(limit=None, timeout=None, wakeup=False)

    def of(self, task_id: str) -> list[str]:
        return [event["type"] for event in list(self.seen) if event.get("uuid") == task_id]


@pytest.fixture
def task_events() -> Iterator[TaskEvents]:
    events = TaskEvents()
    events._thread.start()
    yield events
    events._receiver.should_stop = True
    events._connection.release()


def test_a_worker_sends_task_events_only_once_asked(
    workers: Workers, task_events: TaskEvents
) -> None:
    workers.start(queues="default")
    quiet = app.send_task("tests.record", ["quiet"], queue="default")
    assert quiet.get(timeout=30) == "quiet"
    # Its heartbeats arrive, so the receiver listens; yet no task event came.
    eventually(
        lambda: any(e["type"] == "worker-heartbeat" for e in task_events.seen),
        what="the worker's heartbeat",
    )
    assert task_events.of(quiet.id) == []

    assert app.control.enable_events(reply=True)  # what Flower sends every 5 s
    watched = app.send_task("tests.record", ["watched"], queue="default")
    assert watched.get(timeout=30) == "watched"
    eventually(lambda: "task-succeeded" in task_events.of(watched.id), what="task-succeeded")
    assert "task-received" in task_events.of(watched.id)

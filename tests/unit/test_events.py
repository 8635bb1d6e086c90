"""Task events switch themselves off once nothing has asked for them for a while."""

import time
from types import SimpleNamespace

from tasks.events import IDLE_S, EventsOnDemand


def _consumer(*, asked_s_ago: float | None) -> SimpleNamespace:
    consumer = SimpleNamespace(event_dispatcher=SimpleNamespace(groups={"worker", "task"}))
    if asked_s_ago is not None:
        consumer.greenhouse_events_asked_at = time.monotonic() - asked_s_ago
    return consumer


def test_events_stay_on_while_asked_for_recently() -> None:
    consumer = _consumer(asked_s_ago=IDLE_S / 2)
    EventsOnDemand.expire(consumer)
    assert consumer.event_dispatcher.groups == {"worker", "task"}


def test_events_go_off_once_nobody_asked_for_longer_than_the_idle_time() -> None:
    consumer = _consumer(asked_s_ago=IDLE_S + 1)
    EventsOnDemand.expire(consumer)
    assert consumer.event_dispatcher.groups == {"worker"}


def test_events_turned_on_by_configuration_are_left_alone() -> None:
    consumer = _consumer(asked_s_ago=None)  # on from the start: nobody had to ask
    EventsOnDemand.expire(consumer)
    assert consumer.event_dispatcher.groups == {"worker", "task"}

"""Task events while someone listens: Flower asks every 5 s, and the worker stops sending them
`IDLE_S` after the last ask (each event is a PUBLISH to Redis, most of them to nobody)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import bootsteps
from celery.worker import control

log = logging.getLogger(__name__)
IDLE_S = 30.0  # six of Flower's asks missed
CHECK_EVERY_S = 5.0
_celery_enable_events = control.enable_events


@control.control_command(name="enable_events")
def enable_events(state: Any) -> Any:
    """Celery's command, remembered: events stay on while it keeps coming."""
    state.consumer.greenhouse_events_asked_at = time.monotonic()
    return _celery_enable_events(state)


class EventsOnDemand(bootsteps.StartStopStep):
    """Turns task events off once nobody has asked for them for `IDLE_S`."""

    requires = ("celery.worker.consumer.events:Events",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.always = bool(parent.app.conf.worker_send_task_events)
        self.timer: Any = None

    def start(self, parent: Any) -> None:
        if not self.always and self.timer is None:
            self.timer = parent.timer.call_repeatedly(CHECK_EVERY_S, self.expire, (parent,))

    def stop(self, parent: Any) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    @staticmethod
    def expire(consumer: Any) -> None:
        dispatcher = consumer.event_dispatcher
        asked_at = getattr(consumer, "greenhouse_events_asked_at", None)
        if dispatcher is None or "task" not in dispatcher.groups or asked_at is None:
            return
        if time.monotonic() - asked_at > IDLE_S:
            dispatcher.groups.discard("task")
            log.info("task events off: nothing has asked for them for %.0fs", IDLE_S)

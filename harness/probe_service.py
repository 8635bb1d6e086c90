"""A periodic service tests steer through its live options: it succeeds, fails transiently or
permanently, and can hold its run for a while; every run is logged to Redis with its pid."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from services.background.base import BackgroundService
from services.background.config import ServiceConfig
from services.bootstrap import Container
from services.errors import PermanentError, TransientError

RUNS_KEY = "tests:probe:runs"
DECLARED: dict[str, Any] = {
    "interval_s": 3600,
    "max_failures": 3,
    "retry_delay_s": 0.5,
    "cooldown_s": 3600,
    "options": {"mode": "ok", "hold_s": 0.0, "items": 1},
}


class Probe(BackgroundService):
    """Does what its options say: succeed, fail transiently or permanently, after `hold_s`."""

    def __init__(self, container: Container, config: ServiceConfig) -> None:
        super().__init__(config.name, policy=config.policy, options=config.options)
        self.redis = container.redis

    def update(self) -> int:
        self._log("start")
        time.sleep(float(self.options["hold_s"]))
        self._log("end")
        mode = self.options["mode"]
        if mode == "transient":
            raise TransientError("upstream answered 503")
        if mode == "permanent":
            raise PermanentError("API key rejected")
        return int(self.options["items"])

    def _log(self, event: str) -> None:
        entry = {"event": event, "pid": os.getpid(), "at": time.time()}
        self.redis.rpush(RUNS_KEY, json.dumps(entry))


def build(container: Container, config: ServiceConfig) -> Probe:
    return Probe(container, config)

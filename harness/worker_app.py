"""The Greenhouse app plus tasks that let integration tests observe a real worker."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from harness import probe_service
from services.background import registry
from services.delivery import priority
from services.errors import TransientError, ValidationError
from tasks import runtime
from tasks.app import app

__all__ = ["app"]

registry.register("probe", "harness.probe_service:build", probe_service.DECLARED)


def _redis() -> Any:
    return runtime.container().redis


@app.task(name="tests.record", bind=True)
def record(self: Any, label: str, *, seconds: float = 0.0) -> str:
    """Append `label` to tests:order after holding the worker for `seconds`."""
    time.sleep(seconds)
    _redis().rpush("tests:order", label)
    return label


@app.task(name="tests.flaky", bind=True)
def flaky(self: Any, key: str, *, failures: int, min_delay_s: float = 0.0) -> int:
    """Fail transiently `failures` times, logging each attempt's caller priority."""
    native = (self.request.delivery_info or {}).get("priority")
    on_redis = priority.is_redis_url(str(app.conf.broker_url))
    _redis().rpush(f"{key}:attempts", str(priority.from_broker(native, redis=on_redis)))
    attempt = int(_redis().incr(key))
    if attempt <= failures:
        raise TransientError(f"flaky attempt {attempt}", min_delay_s=min_delay_s)
    return attempt


@app.task(name="tests.validate")
def validate(key: str, value: int) -> int:
    """A permanent error until the test sets `key` (so a replay can succeed)."""
    _redis().incr(f"{key}:calls")
    if not _redis().exists(key):
        raise ValidationError(f"value {value} rejected: its flag is not set")
    return value


@app.task(name="tests.slow_once")
def slow_once(key: str, *, seconds: float) -> int:
    """The first run records its pid and hangs; later runs finish at once."""
    run = int(_redis().incr(key))
    _redis().rpush(f"{key}:pids", os.getpid())
    if run == 1:
        time.sleep(seconds)
    return run


@app.task(name="tests.hang_once")
def hang_once(key: str, *, seconds: float) -> int:
    """The first run hangs in Python for `seconds` (noting a soft time limit that stops it)."""
    run = int(_redis().incr(key))
    if run == 1:
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                time.sleep(0.05)
        except SoftTimeLimitExceeded:
            _redis().set(f"{key}:stopped", threading.current_thread().name)
            raise
    return run


@app.task(name="tests.hold_once")
def hold_once(key: str, *, seconds: float) -> int:
    """Log each run's start and end (pid, time) to `key`; only the first run holds `seconds`."""
    run = int(_redis().incr(f"{key}:count"))
    _redis().rpush(key, json.dumps({"event": "start", "pid": os.getpid(), "at": time.time()}))
    if run == 1:
        time.sleep(seconds)
    _redis().rpush(key, json.dumps({"event": "end", "pid": os.getpid(), "at": time.time()}))
    return run


@app.task(name="tests.retry_unpublishable", bind=True)
def retry_unpublishable(self: Any) -> None:
    """Ask for a retry that cannot be published (its arguments are not JSON)."""
    raise self.retry(args=[object()], countdown=0)

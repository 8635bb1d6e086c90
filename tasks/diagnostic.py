"""diagnostic.* tasks: prove the path from caller to worker and back."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from services.errors import ValidationError
from tasks import runtime
from tasks.app import app


@app.task(name="diagnostic.ping", bind=True)
def ping(self: Any, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Echo `payload` with where and how the task ran."""
    delivery = self.request.delivery_info or {}
    return {
        "payload": payload or {},
        "worker": socket.gethostname(),
        "pid": os.getpid(),
        "queue": delivery.get("routing_key"),
        "attempt": self.request.retries + 1,
        "finished_at": time.time(),
    }


@app.task(name="diagnostic.sleep")
def sleep(seconds: float) -> float:
    """Hold a worker process for `seconds` (load and shutdown drills)."""
    if not isinstance(seconds, int | float) or not 0 <= seconds <= 3600:
        raise ValidationError(f"seconds must be a number from 0 to 3600, got {seconds!r}")
    time.sleep(seconds)
    return float(seconds)


@app.task(name="diagnostic.heartbeat")
def heartbeat(ttl_s: int = 90) -> None:
    """Mark beat → broker → worker alive for `ttl_s` (`greenhouse health` reads it)."""
    runtime.container().heartbeat.beat("beat", ttl_s=ttl_s)

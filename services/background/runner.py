"""`services.run NAME`: one run of a periodic service with its live configuration, never two at
once (a renewed lock), and a no-op that says why when the service is disabled or already running."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jsonschema

from services import metrics
from services.background import registry
from services.background.base import RunReport, run_once
from services.background.state import ServiceStore
from services.resilience.lock import RenewingLock
from services.schema import check

if TYPE_CHECKING:
    from services.bootstrap import Container

RUN_LOCK_EXPIRE_S = 60  # renewed while the run lasts; a dead runner's lock lapses after this

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://greenhouse.invalid/schemas/services.run.json",
    "title": "services.run keyword arguments",
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "version": {"const": 1, "description": "Payload version; 1 when omitted."},
        "name": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9-]{0,63}$",
            "description": "The service to run once: " + ", ".join(registry.names()),
        },
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def run_service(container: Container, payload: dict[str, Any]) -> RunReport:
    """Run the service `payload["name"]` once, unless it is disabled or running elsewhere."""
    check(_VALIDATOR, payload)
    report = _run(container, payload["name"])
    outcome = "ok" if report.ok else "failed" if report.ran else "skipped"
    metrics.service_ran(report.service, outcome)
    return report


def _run(container: Container, name: str) -> RunReport:
    config = registry.live_config(container.redis, name)
    if not config.enabled:
        return RunReport(service=name, ran=False, skipped="disabled by configuration")
    lock = RenewingLock(
        container.redis,
        f"greenhouse:service-run:{name}",
        expire=RUN_LOCK_EXPIRE_S,
        auto_renewal=True,
    )
    if not lock.acquire(blocking=False):
        return RunReport(service=name, ran=False, skipped="already running elsewhere")
    try:
        service = registry.build(container, config)
        return run_once(service, ServiceStore(container.redis))
    finally:
        lock.release_keeping_work()

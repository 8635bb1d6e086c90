"""identification.* tasks."""

from __future__ import annotations

from typing import Any

from services.identification.payload import submit
from tasks import runtime
from tasks.app import app


@app.task(name="identification.identify", bind=True)
def identify(self: Any, /, **payload: Any) -> dict[str, Any]:
    """Merged species suggestions for 1 to 5 photos (contract: docs/TASKS.md)."""
    service = runtime.container().identification
    request = submit(payload)  # its photos are decoded only if this upload is new
    result = service.identify(request, task_id=self.request.id, priority=self.caller_priority)
    return result.to_dict()

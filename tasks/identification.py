"""identification.* tasks."""

from __future__ import annotations

from typing import Any

from services.identification.payload import parse
from tasks import runtime
from tasks.app import app


@app.task(name="identification.identify", bind=True)
def identify(self: Any, /, **payload: Any) -> dict[str, Any]:
    """Merged species suggestions for 1 to 5 photos (schema: docs/schemas/)."""
    request = parse(payload)
    result = runtime.container().identification.identify(request, task_id=self.request.id)
    return result.to_dict()

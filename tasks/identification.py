"""identification.* tasks."""

from __future__ import annotations

from typing import Any

from services.identification.payload import parse
from tasks import runtime
from tasks.app import app


@app.task(name="identification.identify", bind=True)
def identify(self: Any, /, **payload: Any) -> dict[str, Any]:
    """Merged species suggestions for 1 to 5 photos (schema: docs/schemas/)."""
    container = runtime.container()
    settings = container.settings
    request = parse(
        payload, max_side_px=settings.photo_max_side_px, jpeg_quality=settings.photo_jpeg_quality
    )
    result = container.identification.identify(
        request, task_id=self.request.id, priority=self.caller_priority
    )
    return result.to_dict()

"""services.* tasks: run a periodic service once (beat sends one per tick; operators too)."""

from __future__ import annotations

from typing import Any

from services.background.runner import run_service
from tasks import runtime
from tasks.app import app


@app.task(name="services.run")
def run(name: Any = None, **payload: Any) -> dict[str, Any]:
    """Run the service `name` once; a disabled, paused or already running one says why."""
    given = {"name": name, **payload} if name is not None else payload
    return run_service(runtime.container(), given).to_dict()

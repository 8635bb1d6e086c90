"""Publish tasks through the Greenhouse app of a fresh process (so BROKER_URL can differ).

Reads one JSON object per line on stdin: {"name", "args", "kwargs", "priority", "queue"};
prints the task ids, one per line.
"""

import json
import sys

from tasks.app import app

for line in sys.stdin:
    spec = json.loads(line)
    result = app.send_task(
        spec["name"],
        spec.get("args", []),
        spec.get("kwargs", {}),
        queue=spec.get("queue"),
        priority=spec.get("priority"),
    )
    print(result.id, flush=True)

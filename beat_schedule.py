"""The periodic schedule beat runs: name → task, interval, queue and priority (0 low … 9 high)."""

from typing import Any

HEARTBEAT_INTERVAL_S = 30

SCHEDULE: dict[str, dict[str, Any]] = {
    # Proves the whole beat → broker → worker path; `greenhouse health` reads its key.
    "heartbeat": {
        "task": "diagnostic.heartbeat",
        "schedule": HEARTBEAT_INTERVAL_S,
        "kwargs": {"ttl_s": 3 * HEARTBEAT_INTERVAL_S},
        "options": {"queue": "maintenance", "priority": 8, "expires": HEARTBEAT_INTERVAL_S},
    },
}

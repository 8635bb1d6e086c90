"""The periodic schedule beat runs, and the defaults of every periodic service.

A service's interval, `enabled` and options below are defaults: `greenhouse services set NAME
key=value` stores an override in Redis, beat's schedule follows it at the next tick and the
service reads its options at each run (services/background/config.py). Priorities: 0 low … 9 high.
"""

from typing import Any

HEARTBEAT_INTERVAL_S = 30

# name → interval, failure policy and the service's own options (services/background/registry.py
# says which class runs each name).
SERVICES: dict[str, dict[str, Any]] = {
    "stats-warmer": {"interval_s": 20, "options": {}},
    "health-monitor": {"interval_s": 60, "options": {}},
    "retention": {"interval_s": 3600, "options": {}},
    "quota-reporter": {"interval_s": 300, "options": {}},
    "dead-letter-recovery": {"interval_s": 60, "options": {}},
}

SCHEDULE: dict[str, dict[str, Any]] = {
    # Proves the whole beat → broker → worker path; `greenhouse health` reads its key.
    "heartbeat": {
        "task": "diagnostic.heartbeat",
        "schedule": HEARTBEAT_INTERVAL_S,
        "kwargs": {"ttl_s": 3 * HEARTBEAT_INTERVAL_S},
        "options": {"queue": "maintenance", "priority": 8, "expires": HEARTBEAT_INTERVAL_S},
    },
    **{
        f"service:{name}": {
            "task": "services.run",
            "schedule": defaults["interval_s"],
            "kwargs": {"name": name},
            # A run that waited longer than its interval is dropped: the next tick replaces it.
            "options": {"queue": "maintenance", "priority": 5, "expires": defaults["interval_s"]},
        }
        for name, defaults in SERVICES.items()
    },
}

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
    # Statistics read within read_within_s are recomputed once their values end within lead_s
    # (above interval_s plus a run, so none ends between runs); at most max_per_run a run.
    "stats-warmer": {
        "interval_s": 20,
        "options": {"lead_s": 25.0, "read_within_s": 300.0, "max_per_run": 2_000},
    },
    # Probes give up after probe_timeout_s; the history keeps the latest history_samples (a
    # week of one a minute), dropping at most trim_batch a run; disk_path's disk is reported.
    "health-monitor": {
        "interval_s": 60,
        "options": {
            "history_samples": 10_080,
            "trim_batch": 1_000,
            "probe_timeout_s": 2.0,
            "pipeline_max_age_s": 3.0 * HEARTBEAT_INTERVAL_S,
            "cpu_sample_s": 0.5,
            "disk_path": "/",
        },
    },
    # Rows per DELETE / keys per SCAN; at most max_per_run of each kind per run.
    "retention": {"interval_s": 3600, "options": {"batch_size": 500, "max_per_run": 50_000}},
    # Warn below warn_below requests left; a count older than max_age_s is stale (no warning).
    "quota-reporter": {"interval_s": 300, "options": {"warn_below": 50, "max_age_s": 86_400.0}},
    # Upstream failures replayed once their breakers close: at most max_per_run a run, and
    # only those that failed within max_age_s (older ones are left to an operator).
    "dead-letter-recovery": {
        "interval_s": 60,
        "options": {"max_per_run": 20, "max_age_s": 86_400.0},
    },
    # Scores up to batch_size new posts a run. The other options are the scoring rules
    # (services/moderation/scoring.py): regular expressions and words that mark spam, each
    # signal's weight, and the threshold at or above which a post waits for a moderator.
    "moderation": {
        "interval_s": 30,
        "options": {
            "batch_size": 500,
            "patterns": [
                r"\b(buy|order)\s+now\b",
                r"\bfree\s+(shipping|seeds?)\b",
                r"\b(click|visit)\s+(here|my\s+(site|shop))\b",
                r"\b(whats?app|telegram)\s*:?\s*\+?\d",
            ],
            "words": ["casino", "viagra", "crypto", "bitcoin", "loan", "forex", "escort"],
            "threshold": 0.5,
            "pattern_weight": 0.6,
            "word_weight": 0.25,
            "link_weight": 0.2,
            "free_links": 1,
            "new_author_s": 172_800.0,
            "burst_posts": 5,
            "burst_s": 600.0,
        },
    },
}


def service_entry(name: str, *, interval_s: float, enabled: bool = True) -> dict[str, Any]:
    """Beat's entry for the service `name` (also rebuilt live when an operator changes it)."""
    return {
        "task": "services.run",
        "schedule": interval_s,
        "kwargs": {"name": name},
        # A run that waited longer than its interval is dropped: the next tick replaces it.
        "options": {"queue": "maintenance", "priority": 5, "expires": interval_s},
        "enabled": enabled,
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
        f"service:{name}": service_entry(name, interval_s=defaults["interval_s"])
        for name, defaults in SERVICES.items()
    },
}

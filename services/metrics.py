"""Prometheus metrics of every worker process, counted where things happen.

The metrics are made on first use, after a worker with METRICS_PORT has chosen its directory
(tasks/metrics_http.py): then each process, every prefork pool child included, counts into files
of its own there, and the worker's endpoint adds them up. A metric never fails the work it counts.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)
TASK_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LOCK_BUCKETS_S = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)


@functools.cache
def _metrics() -> dict[str, Any]:
    from prometheus_client import Counter, Histogram

    return {
        "transitions": Counter(
            "greenhouse_breaker_transitions_total",
            "Circuit breaker transitions made by this process",
            ["provider", "to"],
        ),
        "cache": Counter(
            "greenhouse_cache_requests_total",
            "Cache lookups by cache and outcome (hit, miss, error)",
            ["cache", "outcome"],
        ),
        "lock_wait": Histogram(
            "greenhouse_lock_wait_seconds",
            "Time a single-flight waiter waited for another process's answer",
            buckets=LOCK_BUCKETS_S,
        ),
        "dead_letters": Counter(
            "greenhouse_dead_letters_total", "Final failures recorded as dead letters", ["task"]
        ),
        "task_duration": Histogram(
            "greenhouse_task_duration_seconds",
            "Task run time by outcome (success, retry, failure)",
            ["task", "outcome"],
            buckets=TASK_BUCKETS_S,
        ),
        "service_runs": Counter(
            "greenhouse_service_runs_total",
            "Periodic service runs by outcome (ok, failed, skipped)",
            ["service", "outcome"],
        ),
    }


def _safely(update: Any) -> None:
    try:
        update()
    except Exception:  # a metric must never fail the work it counts
        log.debug("metric not updated", exc_info=True)


def breaker_transition(provider: str, to: str) -> None:
    _safely(lambda: _metrics()["transitions"].labels(provider, to).inc())


def cache_request(cache: str, outcome: str) -> None:
    _safely(lambda: _metrics()["cache"].labels(cache, outcome).inc())


def lock_waited(seconds: float) -> None:
    _safely(lambda: _metrics()["lock_wait"].observe(seconds))


def dead_letter(task: str) -> None:
    _safely(lambda: _metrics()["dead_letters"].labels(task).inc())


def task_ran(task: str, outcome: str, seconds: float) -> None:
    _safely(lambda: _metrics()["task_duration"].labels(task, outcome).observe(seconds))


def service_ran(service: str, outcome: str) -> None:
    _safely(lambda: _metrics()["service_runs"].labels(service, outcome).inc())

"""Startup check: refuse a worker configuration that loses or forges tasks, naming the fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.delivery.priority import is_redis_url

PICKLE = {"pickle", "application/x-python-serialize"}
RABBITMQ_CONSUMER_TIMEOUT_S = 1800  # RabbitMQ's default consumer_timeout
SAFE_EVICTION_POLICIES = {"noeviction", None}


def refusals(conf: Mapping[str, Any]) -> list[str]:
    """Every reason this Celery configuration must not run, each with its fix."""
    problems = [*_pickle(conf), *_acks(conf)]
    broker = str(conf.get("broker_url") or "")
    if is_redis_url(broker):
        problems += _visibility(conf) + _prefetch(conf)
    elif broker.startswith(("amqp", "pyamqp")):
        problems += _consumer_timeout(conf)
    return problems


def _pickle(conf: Mapping[str, Any]) -> list[str]:
    accepted = set(conf.get("accept_content") or []) | set(conf.get("result_accept_content") or [])
    sent = {conf.get("task_serializer"), conf.get("result_serializer")}
    if (accepted | sent) & PICKLE:
        return [
            "pickle is accepted or used: a pickled message runs arbitrary code. "
            "Fix: accept_content = result_accept_content = ['json'] and JSON serializers."
        ]
    return []


def _acks(conf: Mapping[str, Any]) -> list[str]:
    if conf.get("task_acks_late") and not conf.get("task_reject_on_worker_lost"):
        return [
            "task_acks_late without task_reject_on_worker_lost: a killed pool child's message "
            "is acknowledged and lost. Fix: task_reject_on_worker_lost = True."
        ]
    return []


def longest_wait_s(conf: Mapping[str, Any]) -> float:
    """The longest a reserved message may legitimately stay unacknowledged."""
    return max(
        float(conf.get("task_time_limit") or 0),
        float(conf.get("task_soft_time_limit") or 0),
        float(conf.get("greenhouse_longest_countdown_s") or 0),
    )


def _visibility(conf: Mapping[str, Any]) -> list[str]:
    longest = longest_wait_s(conf)
    problems = []
    for key in ("broker_transport_options", "result_backend_transport_options"):
        timeout = float((conf.get(key) or {}).get("visibility_timeout", 3600))
        if timeout <= longest:
            problems.append(
                f"{key}['visibility_timeout'] = {timeout:g}s is not larger than the longest "
                f"countdown or time limit ({longest:g}s): Redis would hand the message to a "
                f"second worker while the first still holds it. Fix: VISIBILITY_TIMEOUT_S > "
                f"{longest:g}, or lower TASK_TIME_LIMIT_S / RETRY_MAX_DELAY_S."
            )
    return problems


def _consumer_timeout(conf: Mapping[str, Any]) -> list[str]:
    longest = longest_wait_s(conf)
    if longest >= RABBITMQ_CONSUMER_TIMEOUT_S:
        return [
            f"the longest countdown or time limit ({longest:g}s) reaches RabbitMQ's default "
            f"consumer_timeout ({RABBITMQ_CONSUMER_TIMEOUT_S}s): the broker would close the "
            "channel and redeliver. Fix: lower TASK_TIME_LIMIT_S / RETRY_MAX_DELAY_S."
        ]
    return []


def _prefetch(conf: Mapping[str, Any]) -> list[str]:
    options = conf.get("broker_transport_options") or {}
    multiplier = int(conf.get("worker_prefetch_multiplier") or 0)
    if options.get("queue_order_strategy") == "priority" and multiplier > 1:
        return [
            f"worker_prefetch_multiplier = {multiplier} with Redis priorities: each process "
            "reserves low-priority messages before urgent ones arrive. "
            "Fix: worker_prefetch_multiplier = 1."
        ]
    return []


def eviction_warning(policy: str | None) -> str | None:
    """A warning when the broker's Redis may evict keys (queues are keys)."""
    if policy in SAFE_EVICTION_POLICIES:
        return None
    return (
        f"the broker's Redis has maxmemory-policy {policy!r}: under memory pressure it deletes "
        "queued tasks. Use 'noeviction' there and put caches on CACHE_REDIS_URL."
    )

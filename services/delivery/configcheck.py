"""Startup check: refuse a worker configuration that loses or forges tasks, naming the fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.delivery.priority import is_redis_url
from services.delivery.transport import LEASED, is_leased

PICKLE = {"pickle", "application/x-python-serialize"}
RABBITMQ_CONSUMER_TIMEOUT_S = 1800  # RabbitMQ's default consumer_timeout
SAFE_EVICTION_POLICIES = {"noeviction", None}


def refusals(conf: Mapping[str, Any]) -> list[str]:
    """Every reason this Celery configuration must not run, each with its fix."""
    problems = [*_pickle(conf), *_acks(conf)]
    broker = str(conf.get("broker_url") or "")
    options = conf.get("broker_transport_options") or {}
    if is_redis_url(broker):
        leased = is_leased(broker, conf.get("broker_transport"))
        problems += _lease(conf) if leased else _visibility(conf)
        problems += _prefetch(conf)
        window = float(options.get("visibility_timeout", 3600))
        if leased:
            window += _sweep_s(options)
        problems += _results_outlive_redelivery(conf, window)
    elif broker.startswith(("amqp", "pyamqp")):
        problems += _consumer_timeout(conf)
        problems += _results_outlive_redelivery(conf, RABBITMQ_CONSUMER_TIMEOUT_S)
    return problems


def _sweep_s(options: Mapping[str, Any]) -> float:
    interval = float(options.get("unacked_restore_interval", 10))
    return interval * float(options.get("unacked_restore_throttle", 10))


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
    """The longest a message may legitimately stay unacknowledged: its clock starts when it is
    reserved, so a retry's countdown and then its run add up."""
    run = max(float(conf.get("task_time_limit") or 0), float(conf.get("task_soft_time_limit") or 0))
    return float(conf.get("greenhouse_longest_countdown_s") or 0) + run


def _results_outlive_redelivery(conf: Mapping[str, Any], window_s: float) -> list[str]:
    """A task that succeeded but whose message came back (its worker died before the ack) is
    skipped only while its result still exists."""
    if not conf.get("worker_deduplicate_successful_tasks"):
        return []
    expires = float(conf.get("result_expires") or 0)
    if expires and expires <= window_s:
        return [
            f"result_expires = {expires:g}s is not longer than the {window_s:g}s in which a "
            "succeeded task's message can be delivered again: it would run twice. "
            f"Fix: RESULT_EXPIRES_S > {window_s:g}."
        ]
    return []


def _lease(conf: Mapping[str, Any]) -> list[str]:
    """Leased Redis: renewals well inside the lease, sweeps no slower than it."""
    options = conf.get("broker_transport_options") or {}
    lease = float(options.get("visibility_timeout", 3600))
    renew = float(conf.get("greenhouse_lease_renew_interval_s") or 0)
    sweep = _sweep_s(options)
    socket_timeout = float(options.get("socket_timeout") or 0)
    problems = []
    if renew <= 0 or lease < 3 * renew:
        problems.append(
            f"the delivery lease ({lease:g}s) is under three renewal intervals ({renew:g}s): "
            "one late renewal would hand a running task to a second worker. "
            f"Fix: DELIVERY_LEASE_S >= 3 x LEASE_RENEW_INTERVAL_S ({3 * max(renew, 1):g}s)."
        )
    if sweep > lease:
        problems.append(
            f"lapsed leases are swept every {sweep:g}s, more than the lease ({lease:g}s): a lost "
            "worker's messages wait that long. Fix: unacked_restore_interval x "
            "unacked_restore_throttle <= DELIVERY_LEASE_S."
        )
    if renew > 0 and socket_timeout > lease - 2 * renew:
        problems.append(
            f"a Redis call may hang {socket_timeout:g}s, longer than the lease leaves a renewal "
            f"({lease - 2 * renew:g}s): a worker stuck on a dead connection would lose its "
            "running tasks to another. Fix: REDIS_SOCKET_TIMEOUT_S <= DELIVERY_LEASE_S - "
            "2 x LEASE_RENEW_INTERVAL_S."
        )
    if conf.get("worker_cancel_long_running_tasks_on_connection_loss"):
        problems.append(
            "worker_cancel_long_running_tasks_on_connection_loss = True under leases: Celery "
            "marks some tasks cut off by a lost connection REVOKED and acknowledges them (lost). "
            "Fix: False (their leases are renewed; they finish and are acknowledged later)."
        )
    return problems


def _visibility(conf: Mapping[str, Any]) -> list[str]:
    """Redis without leases: the visibility timeout must outlast every legitimate wait."""
    longest = longest_wait_s(conf)
    options = conf.get("broker_transport_options") or {}
    timeout = float(options.get("visibility_timeout", 3600))
    if timeout <= longest:
        return [
            f"visibility_timeout = {timeout:g}s without leases is not larger than the longest "
            f"countdown plus time limit ({longest:g}s): Redis would hand the message to a second "
            "worker while the first still holds it. Fix: use the leased transport "
            f"(broker_transport = {LEASED['redis']!r}), or a visibility_timeout above "
            f"{longest:g}s."
        ]
    return []


def _consumer_timeout(conf: Mapping[str, Any]) -> list[str]:
    longest = longest_wait_s(conf)
    if longest >= RABBITMQ_CONSUMER_TIMEOUT_S:
        return [
            f"the longest countdown plus time limit ({longest:g}s) reaches RabbitMQ's default "
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

from typing import Any

from services.delivery.configcheck import eviction_warning, refusals

SAFE: dict[str, Any] = {
    "broker_url": "redis://127.0.0.1:6379/0",
    "accept_content": ["json"],
    "result_accept_content": ["json"],
    "task_serializer": "json",
    "result_serializer": "json",
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "task_time_limit": 300,
    "task_soft_time_limit": 240,
    "greenhouse_longest_countdown_s": 600,
    "broker_transport_options": {"visibility_timeout": 3600, "queue_order_strategy": "priority"},
    "result_backend_transport_options": {"visibility_timeout": 3600},
    "worker_prefetch_multiplier": 1,
}


def test_the_shipped_shape_passes() -> None:
    assert refusals(SAFE) == []


def test_pickle_anywhere_is_refused() -> None:
    assert "pickle" in refusals({**SAFE, "accept_content": ["json", "pickle"]})[0]
    assert refusals({**SAFE, "result_serializer": "pickle"})


def test_acks_late_without_reject_on_worker_lost_is_refused() -> None:
    (problem,) = refusals({**SAFE, "task_reject_on_worker_lost": False})
    assert "task_reject_on_worker_lost = True" in problem


def test_visibility_timeout_must_exceed_the_longest_wait() -> None:
    conf = {**SAFE, "broker_transport_options": {"visibility_timeout": 600}}
    (problem,) = refusals(conf)
    assert "600s" in problem and "VISIBILITY_TIMEOUT_S" in problem


def test_redis_priorities_with_prefetch_above_one_are_refused() -> None:
    (problem,) = refusals({**SAFE, "worker_prefetch_multiplier": 4})
    assert "worker_prefetch_multiplier = 1" in problem


def test_rabbitmq_needs_no_visibility_or_prefetch_check() -> None:
    conf = {**SAFE, "broker_url": "amqp://guest@h//", "worker_prefetch_multiplier": 4}
    conf["broker_transport_options"] = {"visibility_timeout": 1}
    assert refusals(conf) == []


def test_an_evicting_broker_gets_a_warning() -> None:
    assert eviction_warning("noeviction") is None
    assert "allkeys-lru" in (eviction_warning("allkeys-lru") or "")


def test_rabbitmq_refuses_waits_beyond_its_consumer_timeout() -> None:
    conf = {**SAFE, "broker_url": "amqp://guest@h//", "greenhouse_longest_countdown_s": 3600}
    (problem,) = refusals(conf)
    assert "consumer_timeout" in problem

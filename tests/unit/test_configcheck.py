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
    "broker_transport": "services.delivery.transport:Transport",
    "greenhouse_lease_renew_interval_s": 5,
    "broker_transport_options": {
        "visibility_timeout": 30,
        "queue_order_strategy": "priority",
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 1,
        "socket_timeout": 10,
    },
    "worker_prefetch_multiplier": 1,
    "worker_cancel_long_running_tasks_on_connection_loss": False,
    "worker_deduplicate_successful_tasks": True,
    "result_expires": 86_400,
}


def _with_options(**options: Any) -> dict[str, Any]:
    return {**SAFE, "broker_transport_options": {**SAFE["broker_transport_options"], **options}}


def test_the_shipped_shape_passes() -> None:
    assert refusals(SAFE) == []


def test_pickle_anywhere_is_refused() -> None:
    assert "pickle" in refusals({**SAFE, "accept_content": ["json", "pickle"]})[0]
    assert refusals({**SAFE, "result_serializer": "pickle"})


def test_acks_late_without_reject_on_worker_lost_is_refused() -> None:
    (problem,) = refusals({**SAFE, "task_reject_on_worker_lost": False})
    assert "task_reject_on_worker_lost = True" in problem


def test_a_lease_may_be_shorter_than_any_countdown_or_time_limit() -> None:
    assert refusals({**SAFE, "greenhouse_longest_countdown_s": 3600}) == []


def test_a_lease_under_three_renewal_intervals_is_refused() -> None:
    conf = {**_with_options(socket_timeout=1), "greenhouse_lease_renew_interval_s": 11}
    (problem,) = refusals(conf)
    assert "DELIVERY_LEASE_S >= 3 x LEASE_RENEW_INTERVAL_S" in problem


def test_a_sweep_slower_than_the_lease_is_refused() -> None:
    (problem,) = refusals(_with_options(unacked_restore_interval=10, unacked_restore_throttle=10))
    assert "swept every 100s" in problem


def test_a_socket_timeout_that_outlasts_what_the_lease_leaves_is_refused() -> None:
    (problem,) = refusals(_with_options(socket_timeout=30))
    assert "REDIS_SOCKET_TIMEOUT_S <=" in problem


def test_cancelling_on_connection_loss_is_refused_under_leases() -> None:
    conf = {**SAFE, "worker_cancel_long_running_tasks_on_connection_loss": True}
    (problem,) = refusals(conf)
    assert "REVOKED" in problem


def test_without_leases_the_visibility_timeout_must_exceed_the_longest_wait() -> None:
    conf = {**_with_options(visibility_timeout=600), "broker_transport": None}
    conf["broker_url"] = "redis+socket:///tmp/redis.sock"  # kombu's own transport, not leased
    (problem,) = refusals(conf)
    assert "600s without leases" in problem and "leased transport" in problem


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


def test_a_countdown_and_the_run_after_it_add_up_against_a_visibility_timeout() -> None:
    """A 600 s countdown that then runs 250 s holds its message 850 s: 700 s is too short."""
    conf = {
        **_with_options(visibility_timeout=700),
        "broker_transport": None,
        "broker_url": "redis+socket:///tmp/redis.sock",
        "greenhouse_longest_countdown_s": 600,
        "task_time_limit": 250,
        "task_soft_time_limit": 240,
    }
    (problem,) = refusals(conf)
    assert "(850s)" in problem


def test_a_countdown_and_the_run_after_it_add_up_against_rabbitmq_s_consumer_timeout() -> None:
    conf = {**SAFE, "broker_url": "amqp://guest@h//", "greenhouse_longest_countdown_s": 1500}
    (problem,) = refusals(conf)  # 1500 + 300 reaches 1800
    assert "consumer_timeout" in problem and "(1800s)" in problem


def test_results_must_outlive_a_succeeded_task_s_redelivery() -> None:
    (problem,) = refusals({**SAFE, "result_expires": 30})  # lease 30 s + a 5 s sweep
    assert "RESULT_EXPIRES_S > 35" in problem
    amqp = {**SAFE, "broker_url": "amqp://guest@h//", "result_expires": 600}
    assert "RESULT_EXPIRES_S > 1800" in refusals(amqp)[0]

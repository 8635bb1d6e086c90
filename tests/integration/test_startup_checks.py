"""The worker refuses unsafe configurations before consuming (starts real worker processes)."""

import json
from collections.abc import Mapping

import pytest
import redis

from harness.servers import start_embedded_redis
from harness.workers import Worker, Workers


def _exit_code(worker: Worker) -> int:
    return worker.child.process.wait(timeout=60)


def _start_misconfigured(workers: Workers, conf: Mapping[str, object]) -> Worker:
    return workers.start(
        app="harness.misconfigured_app",
        env={"GREENHOUSE_TEST_CONF": json.dumps(conf)},
        wait=False,
    )


@pytest.mark.parametrize(
    ("conf", "fix"),
    [
        ({"accept_content": ["json", "pickle"]}, "accept_content = result_accept_content"),
        ({"task_reject_on_worker_lost": False}, "task_reject_on_worker_lost = True"),
        ({"worker_prefetch_multiplier": 4}, "worker_prefetch_multiplier = 1"),
    ],
    ids=["pickle", "acks-late-without-reject", "prefetch-with-priorities"],
)
def test_an_unsafe_setting_stops_the_worker_with_the_fix(
    workers: Workers, conf: Mapping[str, object], fix: str
) -> None:
    worker = _start_misconfigured(workers, conf)
    assert _exit_code(worker) != 0
    assert "refusing to start the worker" in worker.log()
    assert fix in worker.log()
    assert " ready." not in worker.log()


def test_a_lease_under_three_renewals_stops_the_worker(workers: Workers) -> None:
    worker = workers.start(env={"DELIVERY_LEASE_S": "2", "LEASE_RENEW_INTERVAL_S": "1"}, wait=False)
    assert _exit_code(worker) != 0
    assert "Fix: DELIVERY_LEASE_S >= 3 x LEASE_RENEW_INTERVAL_S" in worker.log()


def test_without_leases_a_visibility_timeout_below_the_time_limit_stops_the_worker(
    workers: Workers,
) -> None:
    plain = {"broker_transport": "redis", "broker_transport_options": {"visibility_timeout": 30}}
    worker = _start_misconfigured(workers, plain)
    assert _exit_code(worker) != 0
    assert "visibility_timeout = 30s without leases is not larger than" in worker.log()


def test_an_evicting_broker_starts_with_a_warning(workers: Workers) -> None:
    server = start_embedded_redis()  # private: we change its eviction policy
    try:
        redis.Redis.from_url(server.url).config_set("maxmemory-policy", "allkeys-lru")
        worker = workers.start(env={"REDIS_URL": server.url})
        assert "maxmemory-policy 'allkeys-lru'" in worker.log()
    finally:
        workers.stop_all()
        server.stop()


def test_results_that_expire_before_a_redelivery_could_be_skipped_stop_the_worker(
    workers: Workers,
) -> None:
    worker = workers.start(env={"RESULT_EXPIRES_S": "5"}, wait=False)  # lease 6 s + 1 s sweep
    assert _exit_code(worker) != 0
    assert "Fix: RESULT_EXPIRES_S > 7" in worker.log()

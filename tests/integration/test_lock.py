"""Single-flight on a real Redis, across threads and processes, including a SIGKILLed holder."""

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from harness.observe import eventually
from harness.servers import FaultyRedis, start_embedded_redis
from services.resilience.cache import JsonCache
from services.resilience.lock import LockTimeout, RenewingLock, SingleFlight
from services.resilience.renewer import RENEWER


def _flight(url: str, **options: float) -> SingleFlight:
    client = redis.Redis.from_url(url, socket_timeout=30)
    cache = JsonCache(client, namespace="test", version=1, ttl_s=60)
    return SingleFlight(client, cache, **options)


def test_fifty_concurrent_callers_compute_once_and_share_the_result(redis_url: str) -> None:
    calls = []

    def compute() -> dict:
        calls.append(1)
        time.sleep(0.5)
        return {"answer": 42}

    flight = _flight(redis_url)
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda _: flight.get_or_compute("k1", compute), range(50)))
    assert len(calls) == 1
    assert all(value == {"answer": 42} for value, _cached in results)
    assert sum(not cached for _value, cached in results) == 1


def _compete(url: str, key: str, counter: str) -> None:
    client = redis.Redis.from_url(url)

    def compute() -> dict:
        client.incr(counter)
        time.sleep(0.5)
        return {"pid": os.getpid()}

    flight = _flight(url)
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda _: flight.get_or_compute(key, compute), range(10)))


def test_processes_competing_for_the_same_key_compute_it_once(
    redis_url: str, redis_client: redis.Redis
) -> None:
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_compete, args=(redis_url, "k2", "k2:calls")) for _ in range(5)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    assert redis_client.get("k2:calls") == "1"


def _hold_forever(url: str, key: str) -> None:
    def compute() -> dict:
        time.sleep(600)
        return {}

    _flight(url, expire_s=2).get_or_compute(key, compute)


def test_waiters_carry_on_after_a_killed_holder_s_lock_expires(
    redis_url: str, redis_client: redis.Redis
) -> None:
    holder = multiprocessing.get_context("fork").Process(
        target=_hold_forever, args=(redis_url, "k3")
    )
    holder.start()
    eventually(lambda: redis_client.exists("lock:greenhouse:singleflight:k3"), what="the holder")
    os.kill(holder.pid or 0, signal.SIGKILL)
    holder.join()
    value, cached = _flight(redis_url, expire_s=2, wait_s=10).get_or_compute("k3", lambda: {"v": 1})
    assert (value, cached) == ({"v": 1}, False)  # it led once the dead holder's lock expired


def test_the_lock_is_renewed_while_a_slow_computation_runs(redis_url: str) -> None:
    calls = []

    def slow() -> dict:
        calls.append(1)
        time.sleep(3.5)  # well past the 1 s expiry
        return {"slow": True}

    flight = _flight(redis_url, expire_s=1, wait_s=10)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(flight.get_or_compute, "k4", slow)
        eventually(lambda: calls, what="the first caller to lead")
        second = pool.submit(flight.get_or_compute, "k4", slow)
        assert first.result() == ({"slow": True}, False)
        assert second.result() == ({"slow": True}, True)
    assert len(calls) == 1


def test_a_lock_lost_before_release_keeps_the_finished_work(
    redis_url: str, redis_client: redis.Redis
) -> None:
    def compute() -> dict:
        redis_client.delete("lock:greenhouse:singleflight:k5")  # as if it had expired
        return {"kept": True}

    assert _flight(redis_url).get_or_compute("k5", compute) == ({"kept": True}, False)


def test_a_waiter_gives_up_with_a_transient_error_after_the_wait(redis_url: str) -> None:
    started = threading.Event()

    def slow() -> dict:
        started.set()
        time.sleep(3)
        return {}

    flight = _flight(redis_url, wait_s=1)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(flight.get_or_compute, "k6", slow)
        started.wait(5)
        with pytest.raises(LockTimeout):
            flight.get_or_compute("k6", lambda: {})


def test_a_socket_timeout_below_the_poll_is_refused(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=1)
    with pytest.raises(ValueError, match="socket_timeout"):
        SingleFlight(client, JsonCache(client, namespace="t", version=1, ttl_s=1), poll_s=1.0)


def _hold_while_counting(url: str, key: str, seconds: float) -> None:
    client = redis.Redis.from_url(url, socket_timeout=30)
    cache = JsonCache(client, namespace="test", version=1, ttl_s=60)

    def compute() -> dict:
        client.incr(f"{key}:calls")
        time.sleep(seconds)
        return {"by": "holder"}

    SingleFlight(client, cache, expire_s=3, wait_s=30).get_or_compute(key, compute)


def test_one_failed_renewal_is_retried_before_the_lock_lapses() -> None:
    """Redis is down for half a second just when the holder renews: the next try comes in time
    (the lock survives in the append-only file), so nobody else computes the same thing."""
    server = FaultyRedis().start()  # private: this test crashes it
    admin = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        holder = multiprocessing.get_context("fork").Process(
            target=_hold_while_counting, args=(server.url, "k7", 5.0)
        )
        holder.start()
        eventually(lambda: admin.get("k7:calls") == "1", what="the holder to compute")
        time.sleep(1.8)  # its renewal comes at 2 s of a 3 s expiry
        server.crash()
        time.sleep(0.4)
        server.start()
        follower = _flight(server.url, expire_s=3, wait_s=30)
        value, cached = follower.get_or_compute("k7", lambda: admin.incr("k7:calls") and {})
        holder.join(30)
        assert (value, cached) == ({"by": "holder"}, True)
        assert admin.get("k7:calls") == "1"  # the upstream was asked once
    finally:
        server.stop()


def test_with_a_separate_cache_redis_waiters_read_the_value_there() -> None:
    """Locks on one Redis, values on another (CACHE_REDIS_URL): one lock attempt each."""
    locks_server, cache_server = start_embedded_redis(), start_embedded_redis()
    try:
        locks = redis.Redis.from_url(locks_server.url, socket_timeout=30)
        cache = JsonCache(
            redis.Redis.from_url(cache_server.url), namespace="t", version=1, ttl_s=60
        )
        flight = SingleFlight(locks, cache)
        calls = []

        def compute() -> dict:
            calls.append(1)
            time.sleep(0.5)
            return {"answer": 42}

        sets_before = locks.info("commandstats").get("cmdstat_set", {}).get("calls", 0)
        with ThreadPoolExecutor(20) as pool:
            values = list(pool.map(lambda _: flight.get_or_compute("k8", compute)[0], range(20)))
        sets = locks.info("commandstats")["cmdstat_set"]["calls"] - sets_before
        assert len(calls) == 1 and values == [{"answer": 42}] * 20
        assert sets == 20  # each caller tried the lock once; none went back for it
    finally:
        locks_server.stop()
        cache_server.stop()


def test_forty_locks_held_at_once_are_renewed_by_one_thread(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    locks = [RenewingLock(client, f"many-{n}", expire=1, auto_renewal=True) for n in range(40)]
    threads_before = threading.active_count()
    assert all(lock.acquire(blocking=False) for lock in locks)
    try:
        assert threading.active_count() <= threads_before + 1  # python-redis-lock: +40
        time.sleep(2.5)  # more than twice the expiry: each was renewed at least twice
        assert all(client.exists(lock._name) for lock in locks)
    finally:
        for lock in locks:
            lock.release()
    assert not any(client.exists(lock._name) for lock in locks)
    assert not any(lock in RENEWER._due for lock in locks)  # released: no longer renewed

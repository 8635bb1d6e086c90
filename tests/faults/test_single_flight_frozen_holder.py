"""A single-flight holder frozen (SIGSTOP) past its lock's expiry, then thawed: a waiter takes
over at the expiry, and the stale holder's late answer never overwrites the newer one (real
processes, the session Redis)."""

import json
import multiprocessing
import os
import signal
import time

import redis

from harness import figures
from harness.observe import eventually
from services.resilience.cache import JsonCache
from services.resilience.lock import SingleFlight

EXPIRE_S = 2
KEY = "frozen"


def _flight(url: str) -> SingleFlight:
    client = redis.Redis.from_url(url, socket_timeout=30)
    cache = JsonCache(client, namespace="test", version=1, ttl_s=60)
    return SingleFlight(client, cache, expire_s=EXPIRE_S, wait_s=30)


def _ask(url: str, answer: str, hold_s: float) -> None:
    """Compute `answer` under single flight (holding `hold_s`), then log what came back."""
    client = redis.Redis.from_url(url)

    def compute() -> dict:
        client.rpush("computing", json.dumps({"answer": answer, "at": time.time()}))
        time.sleep(hold_s)
        return {"answer": answer}

    value, _cached = _flight(url).get_or_compute(KEY, compute)
    client.rpush("returned", json.dumps({"answer": answer, "got": value["answer"]}))


def test_a_frozen_holder_is_replaced_at_its_expiry_and_cannot_overwrite_the_newer_answer(
    redis_url: str, redis_client: redis.Redis
) -> None:
    fork = multiprocessing.get_context("fork")
    stale = fork.Process(target=_ask, args=(redis_url, "old", 1.0))
    stale.start()
    eventually(lambda: redis_client.llen("computing") == 1, what="the first holder to compute")
    os.kill(stale.pid or 0, signal.SIGSTOP)  # its renewal thread freezes with it
    frozen_at = time.time()
    newer = fork.Process(target=_ask, args=(redis_url, "new", 0.0))
    newer.start()
    eventually(lambda: redis_client.llen("returned") == 1, what="the waiter to answer")
    took_over_after_s = json.loads(redis_client.lindex("computing", 1))["at"] - frozen_at

    os.kill(stale.pid or 0, signal.SIGCONT)  # it wakes, finishes "old" and tries to store it
    for process in (stale, newer):
        process.join(30)
        assert process.exitcode == 0
    cached = json.loads(redis_client.get("greenhouse:v1:test:frozen"))
    returned = sorted(redis_client.lrange("returned", 0, -1))
    assert cached == {"answer": "new"}
    assert took_over_after_s <= EXPIRE_S + 1
    assert [json.loads(r)["got"] for r in returned] == ["new", "new"]  # the stale one defers
    figures.record(
        "single-flight holder frozen",
        guarantee="a holder frozen past its lock expiry is replaced within expiry + 1 s and its "
        "late answer never overwrites the newer one (fencing token)",
        figure=f"waiter took over {took_over_after_s:.2f} s after the freeze (lock expiry "
        f"{EXPIRE_S} s); the thawed holder's write was refused, cache kept the newer answer",
        expire_s=EXPIRE_S,
        took_over_after_s=round(took_over_after_s, 2),
    )

"""The quota budget on the real Redis, across forked processes, fed by the real sandbox's
quota numbers (PlantNet's count and headers, Plant.id's usage_info) over HTTP."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from harness.forked import FORK, run_processes
from localkit.samples import sample_png
from localkit.sandbox.server import SandboxServer
from services.identification.budget import QuotaBudget, QuotaSpent, Shares
from services.identification.payload import IdentifyRequest, parse
from services.identification.plantid import PlantIdClient
from services.identification.plantnet import PlantNetClient
from services.identification.providers import RateLimited, http_client
from services.resilience.ratelimit import Plan, RateLimiter, Throttled

DAILY = 10  # with the default share of 0.2, two calls are kept for high priorities


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    sandbox = SandboxServer().start()
    yield sandbox
    sandbox.stop()


def _budget(url: str, **plan: Any) -> QuotaBudget:
    limiter = RateLimiter(redis.Redis.from_url(url), {"p": Plan(**plan)})
    return QuotaBudget(limiter, shares=Shares(reserve_share=0.2, high_priority=7))


def _spend_at(url: str, priority: int, start: Any, results: Any) -> None:
    budget = _budget(url, per_day=DAILY)
    start.wait()
    admitted = 0
    while True:
        try:
            budget.acquire("p", priority=priority, wait_s=0)
        except QuotaSpent as exc:
            results.put((admitted, exc.priority, exc.min_delay_s))
            return
        admitted += 1


def _spend_in_processes(url: str, priority: int) -> list[tuple[int, int, float]]:
    start = FORK.Barrier(2)
    return run_processes(_spend_at, [(url, priority, start)] * 2)


def test_low_priorities_leave_the_reserve_that_high_priorities_then_spend(
    redis_url: str,
) -> None:
    low = _spend_in_processes(redis_url, priority=3)
    assert sum(admitted for admitted, _, _ in low) == DAILY - 2
    assert {priority for _, priority, _ in low} == {3}
    assert all(0 < until_reset <= 86400 for _, _, until_reset in low)
    high = _spend_in_processes(redis_url, priority=8)
    assert sum(admitted for admitted, _, _ in high) == 2
    with pytest.raises(QuotaSpent):
        _budget(redis_url, per_day=DAILY).acquire("p", priority=9, wait_s=0)


def test_a_refund_returns_a_call_to_the_budget(redis_url: str) -> None:
    budget = _budget(redis_url, per_day=3)
    for _ in range(2):
        budget.acquire("p", priority=0, wait_s=0)
    with pytest.raises(QuotaSpent):
        budget.acquire("p", priority=0, wait_s=0)
    budget.refund("p")  # say its breaker refused it: it never reached the provider
    budget.acquire("p", priority=0, wait_s=0)


def _request(seed: int) -> IdentifyRequest:
    return parse({"images": [base64.b64encode(sample_png(seed)).decode()]})


def _configure(server: SandboxServer, **knobs: dict[str, Any]) -> None:
    httpx.post(f"{server.url}/__sandbox/config", json=knobs).raise_for_status()


def test_plantnets_reported_count_and_limit_replace_the_budgets(
    redis_url: str, server: SandboxServer
) -> None:
    _configure(server, plantnet={"daily_quota": DAILY})
    limiter = RateLimiter(redis.Redis.from_url(redis_url), {})
    budget = QuotaBudget(limiter)
    with http_client(connect_timeout_s=2, read_timeout_s=5) as http:
        client = PlantNetClient(http, base_url=server.plantnet_url, api_key="k")
        for seed in (1, 2, 3):
            answer = client.identify(_request(seed), deadline=time.monotonic() + 5)
    assert (answer.remaining_requests, answer.daily_limit) == (DAILY - 3, DAILY)
    budget.sync("plantnet", remaining=DAILY - 3, limit=answer.daily_limit)
    usage = limiter.usage("plantnet")
    assert (usage.used, usage.limit) == (3, DAILY)


def test_plant_ids_usage_endpoint_refreshes_the_budget_without_spending(
    redis_url: str, server: SandboxServer
) -> None:
    _configure(server, plant_id={"daily_quota": 5})
    limiter = RateLimiter(redis.Redis.from_url(redis_url), {})
    budget = QuotaBudget(limiter)
    with http_client(connect_timeout_s=2, read_timeout_s=5) as http:
        client = PlantIdClient(http, base_url=server.plant_id_url, api_key="k")
        for seed in (4, 5):
            client.identify(_request(seed), deadline=time.monotonic() + 5)
        left = budget.refresh(client, timeout_s=5)
        assert budget.refresh(client, timeout_s=5) == left
    assert left is not None and (left.remaining, left.limit) == (3, 5)
    assert (limiter.usage("plant_id").used, limiter.usage("plant_id").limit) == (2, 5)
    assert httpx.get(f"{server.url}/__sandbox/calls").json()["plant_id"] == 2


def test_a_spent_quota_at_the_provider_pauses_it_until_the_reset(
    redis_url: str, server: SandboxServer
) -> None:
    _configure(server, plantnet={"daily_quota": 1})
    limiter = RateLimiter(redis.Redis.from_url(redis_url), {})
    with http_client(connect_timeout_s=2, read_timeout_s=5) as http:
        client = PlantNetClient(http, base_url=server.plantnet_url, api_key="k")
        client.identify(_request(6), deadline=time.monotonic() + 5)
        with pytest.raises(RateLimited) as raised:
            client.identify(_request(7), deadline=time.monotonic() + 5)
    wait_s = raised.value.retry_after_s  # no Retry-After: RateLimit's t, to 00:00 UTC
    assert 0 < wait_s <= 86400 and raised.value.provider == "plantnet"
    limiter.pause("plantnet", wait_s)
    with pytest.raises(Throttled) as paused:
        limiter.acquire("plantnet", wait_s=1)
    assert paused.value.reason == "paused" and paused.value.min_delay_s > wait_s - 5


def test_the_sandboxs_rate_limit_is_a_429_with_retry_after(server: SandboxServer) -> None:
    _configure(server, plant_id={"max_rps": 0.01})
    with http_client(connect_timeout_s=2, read_timeout_s=5) as http:
        client = PlantIdClient(http, base_url=server.plant_id_url, api_key="k")
        client.identify(_request(8), deadline=time.monotonic() + 5)
        with pytest.raises(RateLimited) as raised:
            client.identify(_request(8), deadline=time.monotonic() + 5)
    assert 95 <= raised.value.retry_after_s <= 100

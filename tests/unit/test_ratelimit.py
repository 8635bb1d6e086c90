"""Throttling errors: a provider's 429 as RateLimited, the limiter's refusals, and the limiter
admitting calls when Redis is away (a hand-written client that fails); nothing started."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import redis

from services.errors import TransientError, classify
from services.identification.providers import RateLimited, raise_for_status, retry_after_s
from services.resilience.ratelimit import Plan, RateLimiter, Throttled


def _response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("POST", "https://provider.invalid/identify")
    return httpx.Response(status, headers=headers, json={"error": "slow down"}, request=request)


def test_a_429_with_retry_after_is_rate_limited_for_that_long() -> None:
    with pytest.raises(RateLimited) as raised:
        raise_for_status("plant_id", _response(429, {"Retry-After": "7"}))
    error = raised.value
    assert (error.provider, error.retry_after_s, error.min_delay_s) == ("plant_id", 7.0, 7.0)
    assert isinstance(error, Throttled) and isinstance(error, TransientError)
    assert error.reason == "upstream" and "slow down" in str(error)
    assert classify(error).transient and classify(error).min_delay_s == 7.0


def test_a_429_without_retry_after_waits_for_the_quota_headers_reset_when_nothing_is_left() -> None:
    spent = {"RateLimit": '"dailyQuota";r=0;t=5400', "RateLimit-Policy": '"dailyQuota";q=500'}
    assert retry_after_s(httpx.Headers(spent)) == 5400
    assert retry_after_s(httpx.Headers({"RateLimit": '"dailyQuota";r=3;t=5400'})) == 0.0
    assert retry_after_s(httpx.Headers({"Retry-After": "2", **spent})) == 2.0
    assert retry_after_s(httpx.Headers()) == 0.0


def test_other_failures_are_not_rate_limited() -> None:
    with pytest.raises(TransientError) as raised:
        raise_for_status("plantnet", _response(503, {"Retry-After": "3"}))
    assert not isinstance(raised.value, Throttled)


def test_a_throttled_call_says_why_and_when_to_come_back() -> None:
    error = Throttled("plantnet: over its rate", provider="plantnet", reason="rate", min_delay_s=2)
    assert (error.provider, error.reason, error.min_delay_s) == ("plantnet", "rate", 2)
    assert classify(error).transient


class _Unreachable:
    """A Redis client whose scripts all fail as if the server were gone."""

    def register_script(self, script: str) -> Any:
        def run(**_: Any) -> Any:
            raise redis.ConnectionError("connection refused")

        return run


def test_while_redis_is_away_calls_are_admitted_and_one_warning_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiter(_Unreachable(), {"p": Plan(per_second=1)})  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            limiter.acquire("p", wait_s=0)
        assert limiter.pause("p", 3) == 0.0
        limiter.sync("p", remaining=3)
        limiter.refund("p")
    assert len(caplog.records) == 1 and "Redis unreachable" in caplog.text


def test_a_provider_without_a_plan_has_no_limits() -> None:
    limiter = RateLimiter(_Unreachable(), {})  # type: ignore[arg-type]
    assert limiter.plan("unknown") == Plan()
    assert limiter.key("plantnet", "paused_until") == "greenhouse:throttle:plantnet:paused_until"

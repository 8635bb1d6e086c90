"""The quota budget's arithmetic and policy, and the quota numbers providers send (headers,
usage_info), with a hand-written limiter; nothing started."""

from __future__ import annotations

import httpx
import pytest

from services.identification.allowance import Allowance, from_headers, from_usage_info
from services.identification.budget import QuotaBudget, QuotaSpent, Shares, may_spend, reserve
from services.identification.providers import ProviderAnswer, with_allowance
from services.resilience.ratelimit import Throttled

PLANTNET_HEADERS = {
    "RateLimit-Policy": '"dailyQuota";q=2000;w=86400;pk=:MjEyNjQxMDM3MDAtdm90ZXM=:',
    "RateLimit": '"dailyQuota";r=1990;t=3600;pk=:MjEyNjQxMDM3MDAtdm90ZXM=:',
}


class FakeLimiter:
    """Records what the budget asks; refuses with `refusal` when set."""

    def __init__(self, refusal: Throttled | None = None) -> None:
        self.refusal = refusal
        self.asked: list[tuple[str, float, float]] = []
        self.synced: list[tuple[str, int, int | None]] = []
        self.refunded: list[str] = []
        self.paused: list[tuple[str, float]] = []

    def acquire(self, provider: str, *, wait_s: float, keep_share: float = 0.0) -> None:
        self.asked.append((provider, wait_s, keep_share))
        if self.refusal is not None:
            raise self.refusal

    def pause(self, provider: str, seconds: float) -> float:
        self.paused.append((provider, seconds))
        return 1000.0 + seconds

    def refund(self, provider: str) -> None:
        self.refunded.append(provider)

    def sync(self, provider: str, *, remaining: int, limit: int | None = None) -> None:
        self.synced.append((provider, remaining, limit))


class FakeUsage:
    name = "plant_id"

    def __init__(self, left: Allowance | None) -> None:
        self.left = left

    def usage(self, *, timeout_s: float) -> Allowance | None:
        return self.left


@pytest.mark.parametrize(
    ("limit", "share", "kept"),
    [(10, 0.2, 2), (7, 0.2, 2), (10, 0.7, 7), (10, 0.0, 0), (500, 0.2, 100), (0, 0.2, 0)],
)
def test_the_reserve_is_the_share_of_the_limit_rounded_up(
    limit: int, share: float, kept: int
) -> None:
    assert reserve(limit, share) == kept


def test_low_priority_stops_with_the_reserve_left_and_high_spends_it_to_nothing() -> None:
    low, high = Shares().keep_share(3), Shares().keep_share(8)
    assert may_spend(limit=10, remaining=3, keep_share=low)
    assert not may_spend(limit=10, remaining=2, keep_share=low)
    assert may_spend(limit=10, remaining=1, keep_share=high)
    assert not may_spend(limit=10, remaining=0, keep_share=high)


def test_priorities_at_or_above_the_threshold_keep_nothing_back() -> None:
    shares = Shares(reserve_share=0.3, high_priority=6)
    assert [shares.keep_share(p) for p in (0, 5, 6, 9)] == [0.3, 0.3, 0.0, 0.0]
    assert Shares().keep_share(None) == 0.2  # no priority is the default (5): low
    assert Shares().keep_share(7) == 0.0


def test_acquire_asks_the_limiter_to_keep_this_prioritys_share() -> None:
    limiter = FakeLimiter()
    budget = QuotaBudget(limiter, shares=Shares(reserve_share=0.25))
    budget.acquire("plantnet", priority=2, wait_s=1.5)
    budget.acquire("plantnet", priority=9, wait_s=0.5)
    assert limiter.asked == [("plantnet", 1.5, 0.25), ("plantnet", 0.5, 0.0)]


def test_a_spent_daily_share_becomes_quota_spent_naming_provider_priority_and_reset() -> None:
    spent = Throttled("x", provider="plantnet", reason="daily", min_delay_s=7200.0)
    budget = QuotaBudget(FakeLimiter(spent))
    with pytest.raises(QuotaSpent) as raised:
        budget.acquire("plantnet", priority=3, wait_s=1.0)
    error = raised.value
    assert (error.provider, error.priority, error.min_delay_s) == ("plantnet", 3, 7200.0)
    assert "priority 3" in str(error) and "2.0h" in str(error)


def test_a_pause_or_the_rate_passes_through_as_throttled() -> None:
    paused = Throttled("x", provider="plant_id", reason="paused", min_delay_s=3.0)
    with pytest.raises(Throttled) as raised:
        QuotaBudget(FakeLimiter(paused)).acquire("plant_id", priority=9, wait_s=1.0)
    assert not isinstance(raised.value, QuotaSpent) and raised.value.reason == "paused"


def test_reported_counts_429s_and_refunds_go_to_the_limiter() -> None:
    limiter = FakeLimiter()
    budget = QuotaBudget(limiter)
    budget.record({"plantnet": 41})
    budget.sync("plantnet", remaining=40, limit=500)
    budget.refund("plant_id")
    assert budget.pause("plant_id", 30.0) == 1030.0
    assert limiter.synced == [("plantnet", 41, None), ("plantnet", 40, 500)]
    assert (limiter.refunded, limiter.paused) == (["plant_id"], [("plant_id", 30.0)])


def test_refresh_takes_the_usage_endpoints_numbers_and_nothing_when_unlimited() -> None:
    limiter = FakeLimiter()
    budget = QuotaBudget(limiter)
    assert budget.refresh(FakeUsage(Allowance(remaining=7, limit=100))) == Allowance(
        remaining=7, limit=100
    )
    assert budget.refresh(FakeUsage(None)) is None
    assert limiter.synced == [("plant_id", 7, 100)]


def test_plantnets_ietf_headers_give_remaining_limit_and_reset() -> None:
    assert from_headers(PLANTNET_HEADERS) == Allowance(remaining=1990, limit=2000, reset_s=3600)


def test_of_several_policies_the_one_with_least_left_counts() -> None:
    headers = {
        "RateLimit-Policy": '"hour";q=100;w=3600, "day";q=1000;w=86400',
        "RateLimit": '"hour";r=60;t=10, "day";r=5;t=500',
    }
    assert from_headers(headers) == Allowance(remaining=5, limit=1000, reset_s=500)


def test_older_and_x_prefixed_ratelimit_headers_are_read_too() -> None:
    older = {"RateLimit-Remaining": "3", "RateLimit-Limit": "10", "RateLimit-Reset": "20"}
    common = httpx.Headers({"x-ratelimit-remaining": "4", "x-ratelimit-limit": "9"})
    assert from_headers(older) == Allowance(remaining=3, limit=10, reset_s=20)
    assert from_headers(common) == Allowance(remaining=4, limit=9)


@pytest.mark.parametrize(
    "headers",
    [{}, {"RateLimit": "garbage"}, {"RateLimit": '"d";r=-1'}, {"X-RateLimit-Remaining": "nan"}],
)
def test_headers_without_a_usable_count_say_nothing(headers: dict[str, str]) -> None:
    assert from_headers(headers) is None


def test_usage_info_gives_the_binding_window() -> None:
    body = {
        "active": True,
        "credit_limits": {"day": 100, "week": 300, "month": None, "total": None},
        "used": {"day": 10, "week": 290, "month": 290, "total": 290},
        "remaining": {"day": 90, "week": 10, "month": None, "total": None},
    }
    assert from_usage_info(body) == Allowance(remaining=10, limit=300)


@pytest.mark.parametrize(
    "body",
    [
        {"credit_limits": dict.fromkeys(("day", "week", "month", "total")), "remaining": {}},
        {"unexpected": True},
        None,
    ],
)
def test_usage_info_without_limits_or_in_another_shape_gives_none(body: object) -> None:
    assert from_usage_info(body) is None


def test_an_answer_takes_the_headers_count_only_where_its_body_has_none() -> None:
    headers = httpx.Headers(PLANTNET_HEADERS)
    counted = ProviderAnswer(provider="plantnet", is_plant=True, remaining_requests=1989)
    silent = ProviderAnswer(provider="plantnet", is_plant=False)
    assert with_allowance(counted, headers).remaining_requests == 1989
    assert with_allowance(silent, headers).remaining_requests == 1990
    assert with_allowance(silent, headers).daily_limit == 2000
    assert with_allowance(silent, httpx.Headers()) is silent

"""The statistics warmer over fakes: which statistics a run refreshes, each on its own, how a
run fails or stops; and the statistics service's side of it (each name's recipe)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.fakes import (
    NO_IDENTIFICATIONS,
    NOW,
    SITE,
    FakeForumRepository,
    FakeIdentificationRepository,
    FakeServiceStore,
    wired,
)
from services.background.base import run_once
from services.background.config import apply
from services.background.registry import default_config
from services.background.warmer import StatisticsWarmer, build
from services.errors import ValidationError
from services.statistics.repositories import ForumTotals, UserTotals
from services.statistics.service import NotFound, StatisticsService, Ttls


class FakeStatistics:
    """Names due to be warmed, and a script of what refreshing each does."""

    def __init__(self, due: list[str], outcomes: dict[str, bool | Exception] | None = None):
        self.due = due
        self.outcomes = outcomes or {}
        self.asked: dict[str, Any] = {}
        self.refreshed: list[str] = []

    def expiring(self, *, read_within_s: float, lead_s: float, limit: int) -> list[str]:
        self.asked = {"read_within_s": read_within_s, "lead_s": lead_s, "limit": limit}
        return self.due[:limit]

    def refresh(self, name: str) -> bool:
        outcome = self.outcomes.get(name, True)
        if isinstance(outcome, Exception):
            raise outcome
        self.refreshed.append(name)
        return outcome


def _warmer(statistics: FakeStatistics, **overrides: Any) -> StatisticsWarmer:
    config = apply(default_config("stats-warmer"), overrides)
    return StatisticsWarmer(
        config.name, policy=config.policy, options=config.options, statistics=statistics
    )


def test_a_run_refreshes_every_statistic_due_and_counts_them() -> None:
    statistics = FakeStatistics(["overview:online", "forum:3", "user:7"])
    warmer = _warmer(statistics, lead_s=30.0, read_within_s=120.0, max_per_run=50)
    assert warmer.update() == 3
    assert statistics.refreshed == ["overview:online", "forum:3", "user:7"]
    assert statistics.asked == {"read_within_s": 120.0, "lead_s": 30.0, "limit": 50}


def test_one_failing_statistic_does_not_stop_the_others() -> None:
    outcomes: dict[str, bool | Exception] = {"forum:3": ConnectionError("database away")}
    statistics = FakeStatistics(["overview", "forum:3", "user:7"], outcomes)
    warmer = _warmer(statistics)
    assert warmer.update() == 2
    assert statistics.refreshed == ["overview", "user:7"]
    assert warmer.health() == {"due": 3, "refreshed": 2, "busy": 0, "gone": 0, "failed": 1}


def test_a_statistic_computed_elsewhere_or_gone_is_neither_refreshed_nor_a_failure() -> None:
    outcomes: dict[str, bool | Exception] = {"forum:3": False, "user:9": NotFound("user 9")}
    warmer = _warmer(FakeStatistics(["forum:3", "user:9"], outcomes))
    store = FakeServiceStore()
    report = run_once(warmer, store)
    assert (report.ok, report.items) == (True, 0)
    assert warmer.health() == {"due": 2, "refreshed": 0, "busy": 1, "gone": 1, "failed": 0}


def test_a_run_where_every_refresh_fails_is_a_failed_run_that_retries_later() -> None:
    outcomes: dict[str, bool | Exception] = {
        name: ConnectionError("database away") for name in ("overview", "forum:3")
    }
    warmer = _warmer(FakeStatistics(["overview", "forum:3"], outcomes))
    store = FakeServiceStore()
    report = run_once(warmer, store, clock=lambda: 1000.0)
    assert not report.ok and "none of 2 statistics could be refreshed" in (report.error or "")
    status = store.status("stats-warmer")
    assert status.failures == 1 and status.not_before > 1000.0 and not status.paused


def test_a_run_with_nothing_due_succeeds_with_no_items() -> None:
    assert run_once(_warmer(FakeStatistics([])), FakeServiceStore()).to_dict()["items"] == 0


def test_a_run_refreshes_at_most_max_per_run() -> None:
    statistics = FakeStatistics([f"user:{n}" for n in range(10)])
    assert _warmer(statistics, max_per_run=4).update() == 4


def test_a_lead_not_above_the_interval_stops_the_service_until_an_operator_acts() -> None:
    statistics = FakeStatistics(["overview"])
    warmer = _warmer(statistics, interval_s=30.0, lead_s=20.0)
    store = FakeServiceStore()
    report = run_once(warmer, store)
    assert not report.ok and "lead_s (20) must exceed interval_s (30)" in (report.error or "")
    assert store.status("stats-warmer").paused and store.status("stats-warmer").paused_until is None
    assert statistics.refreshed == []


def test_the_default_lead_exceeds_the_default_interval() -> None:
    config = default_config("stats-warmer")
    assert float(config.options["lead_s"]) > config.policy.interval_s
    build(wired(), config).configure()  # raises were it not so


# --- the statistics service's side: each name the warmer sees, recomputed as a read would ---


class FakeWarmCache:
    """A dict with the warming interface; remembers each refresh's TTL."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.ttls: dict[str, int] = {}

    def get_or_compute(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> tuple[Any, bool]:
        if name in self.values:
            return self.values[name], True
        self.values[name], self.ttls[name] = compute(), ttl_s
        return self.values[name], False

    def invalidate(self, patterns: list[str]) -> list[str]:
        return []

    def expiring(self, *, read_within_s: float, lead_s: float, limit: int) -> list[str]:
        return sorted(self.values)[:limit]

    def refresh(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> bool:
        self.values[name], self.ttls[name] = compute(), ttl_s
        return True


def _service(cache: Any) -> StatisticsService:
    user = UserTotals(
        user_id=5, username="rue", posts=3, topics=1, first_activity=None, last_activity=None
    )
    forums = FakeForumRepository(
        site=SITE,
        forums={4: ForumTotals(forum_id=4, name="Cacti", topics=1, posts=9, posts_since=2)},
        users={5: user},
        online=2,
    )
    return StatisticsService(
        forums=forums,
        identifications=FakeIdentificationRepository(NO_IDENTIFICATIONS),
        cache=cache,
        clock=lambda: NOW,
        ttls=Ttls(overview_s=301, forum_s=121, user_s=302, online_s=31, identification_s=61),
    )


def test_every_statistic_a_read_caches_is_refreshed_with_its_own_ttl_and_value() -> None:
    cache = FakeWarmCache()
    service = _service(cache)
    service.forum_overview(), service.forum_detail(4), service.user_summary(5)
    service.identification_summary(14)
    read = dict(cache.values)
    for name in service.expiring(read_within_s=60, lead_s=10, limit=100):
        assert service.refresh(name)
    assert cache.values == read
    assert cache.ttls == {
        "overview": 301,
        "overview:online": 31,
        "forum:4": 121,
        "forum:4:online": 31,
        "user:5": 302,
        "identification:14": 61,
    }


def test_a_name_that_is_no_statistic_is_refused() -> None:
    service = _service(FakeWarmCache())
    for name in ("users:5", "user:5:online", "identification", "forum:x", "overview:7", "*"):
        with pytest.raises(ValidationError, match="no statistic is named"):
            service.refresh(name)


def test_refreshing_a_forum_that_no_longer_exists_is_not_found() -> None:
    with pytest.raises(NotFound, match="forum 8 does not exist"):
        _service(FakeWarmCache()).refresh("forum:8")


def test_a_cache_that_cannot_warm_says_so() -> None:
    service = wired().statistics  # the plain FakeStatsCache
    with pytest.raises(TypeError, match="FakeStatsCache cannot say what to warm"):
        service.expiring(read_within_s=60, lead_s=10, limit=10)

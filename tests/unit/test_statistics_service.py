from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness.fakes import FakeForumRepository, FakeIdentificationRepository, FakeStatsCache
from services.errors import PermanentError, ValidationError
from services.statistics.repositories import (
    ForumTotals,
    IdentificationTotals,
    Member,
    ProviderTotals,
    SiteTotals,
    UserTotals,
)
from services.statistics.service import StatisticsService

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _service(**forums: Any) -> tuple[StatisticsService, FakeForumRepository, FakeStatsCache]:
    site = SiteTotals(
        active_users=9,
        approved_topics=4,
        approved_posts=30,
        latest_member=Member(id=9, username="fern", joined_at=NOW),
    )
    repository = FakeForumRepository(
        site=site,
        forums={
            1: ForumTotals(forum_id=1, name="Ferns", topics=2, posts=20, posts_since=6),
            2: ForumTotals(forum_id=2, name="Moss", topics=1, posts=5, posts_since=5),
        },
        users={
            3: UserTotals(
                user_id=3,
                username="ivy",
                posts=2,
                topics=1,
                first_activity=NOW - timedelta(days=3),
                last_activity=NOW,
            )
        },
        online=4,
    )
    totals = IdentificationTotals(
        per_day={"2026-11-20": 4},
        providers={"plant_id": ProviderTotals(ok=3, attempted=4)},
        top_species=[("Bellis perennis", 2)],
        total=4,
        cache_hits=1,
    )
    cache = FakeStatsCache()
    service = StatisticsService(
        forums=repository,
        identifications=FakeIdentificationRepository(totals),
        cache=cache,
        clock=lambda: NOW,
    )
    return service, repository, cache


def test_the_overview_joins_site_totals_with_the_online_count() -> None:
    service, _, _ = _service()
    overview = service.forum_overview().to_dict()
    assert overview["approved_posts"] == 30 and overview["online_users"] == 4
    assert overview["latest_member"]["username"] == "fern" and overview["cached"] is False
    assert service.forum_overview().cached


def test_a_forum_trends_with_more_than_five_posts_in_a_week() -> None:
    service, _, _ = _service()
    assert service.forum_detail(1).values["trending"] is True
    assert service.forum_detail(2).values["trending"] is False


def test_an_unknown_forum_or_user_is_a_permanent_error_naming_the_id() -> None:
    service, _, _ = _service()
    with pytest.raises(PermanentError, match="forum 77 does not exist"):
        service.forum_detail(77)
    with pytest.raises(PermanentError, match="user 78 does not exist"):
        service.user_summary(78)


def test_ratios_are_computed_from_the_totals() -> None:
    service, _, _ = _service()
    summary = service.identification_summary(7).values
    assert summary["provider_success"]["plant_id"]["ratio"] == 0.75
    assert summary["cache_hit_ratio"] == 0.25


def test_invalidate_drops_exactly_its_scope_and_rejects_unknown_scopes() -> None:
    service, _, cache = _service()
    service.forum_detail(1)
    service.forum_detail(2)
    service.user_summary(3)
    assert service.invalidate("forum:1").values["invalidated"] == ["forum:1", "forum:1:online"]
    assert set(cache.values) == {"forum:2", "forum:2:online", "user:3"}
    with pytest.raises(ValidationError, match="scope 'forums'"):
        service.invalidate("forums")

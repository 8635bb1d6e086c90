"""Hand-written fakes of the repository and cache boundaries, for unit tests of pure logic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from fnmatch import fnmatch
from typing import Any

from services.statistics.repositories import (
    ForumRepository,
    ForumTotals,
    IdentificationRepository,
    IdentificationTotals,
    SiteTotals,
    UserTotals,
)


class FakeForumRepository(ForumRepository):
    """Figures given up front; records what it was asked."""

    def __init__(
        self,
        *,
        site: SiteTotals,
        forums: dict[int, ForumTotals],
        users: dict[int, UserTotals],
        online: int = 0,
    ) -> None:
        self.site, self.forums, self.users, self.online = site, forums, users, online
        self.asked: list[str] = []

    def site_totals(self) -> SiteTotals:
        self.asked.append("site")
        return self.site

    def online_users(self, *, since: datetime, forum_id: int | None = None) -> int:
        self.asked.append(f"online:{forum_id}")
        return self.online

    def forum_totals(self, forum_id: int, *, since: datetime) -> ForumTotals | None:
        self.asked.append(f"forum:{forum_id}")
        return self.forums.get(forum_id)

    def user_totals(self, user_id: int) -> UserTotals | None:
        self.asked.append(f"user:{user_id}")
        return self.users.get(user_id)


class FakeIdentificationRepository(IdentificationRepository):
    def __init__(self, totals: IdentificationTotals) -> None:
        self._totals = totals

    def totals(self, *, since: datetime, top: int = 5) -> IdentificationTotals:
        return self._totals


class FakeStatsCache:
    """A dict with the StatsCache interface (no TTLs, no locks)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get_or_compute(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> tuple[Any, bool]:
        if name in self.values:
            return self.values[name], True
        self.values[name] = compute()
        return self.values[name], False

    def invalidate(self, patterns: list[str]) -> list[str]:
        dropped = sorted(n for n in self.values if any(fnmatch(n, p) for p in patterns))
        for name in dropped:
            del self.values[name]
        return dropped

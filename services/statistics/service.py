"""Forum and identification statistics, computed in the database and cached in Redis."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from services.errors import PermanentError, ValidationError
from services.statistics.repositories import ForumRepository, IdentificationRepository

TRENDING_POSTS_PER_WEEK = 5
ONLINE_WINDOW = timedelta(minutes=15)
SCOPE = re.compile(r"^(all|overview|identification|forum:\d+|user:\d+)$")
# A cached statistic's name: overview, forum:N, user:N, identification:DAYS; `:online` after the
# overview or a forum is its online count.
NAME = re.compile(
    r"(?P<kind>overview|forum|user|identification)(?::(?P<id>-?\d+))?(?P<online>:online)?"
)


class Cache(Protocol):
    """What the service needs of its cache (services/statistics/cache.py, or a fake)."""

    def get_or_compute(
        self, name: str, ttl_s: int, compute: Callable[[], Any]
    ) -> tuple[Any, bool]: ...

    def invalidate(self, patterns: list[str]) -> list[str]: ...


@runtime_checkable
class WarmCache(Cache, Protocol):
    """A cache that knows which statistics are read and expiring, and refreshes one in place."""

    def expiring(self, *, read_within_s: float, lead_s: float, limit: int) -> list[str]: ...

    def refresh(self, name: str, ttl_s: int, compute: Callable[[], Any]) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class Ttls:
    """How long each statistic stays cached, in seconds."""

    overview_s: int = 300
    forum_s: int = 120
    user_s: int = 300
    online_s: int = 30
    identification_s: int = 60


@dataclass(frozen=True)
class Statistic:
    """A statistic, whether it came from the cache, and when it was computed."""

    values: dict[str, Any]
    cached: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.values, "cached": self.cached}


class NotFound(PermanentError):
    """The forum or user asked about does not exist."""


class StatisticsService:
    """Each statistic: one cache lookup, and on a miss a fixed number of SQL statements."""

    def __init__(
        self,
        *,
        forums: ForumRepository,
        identifications: IdentificationRepository,
        cache: Cache,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        ttls: Ttls = Ttls(),
    ) -> None:
        self._forums = forums
        self._identifications = identifications
        self._cache = cache
        self._now = clock
        self._ttls = ttls

    def forum_overview(self) -> Statistic:
        return self._with_online("overview")

    def forum_detail(self, forum_id: int) -> Statistic:
        return self._with_online(f"forum:{forum_id}")

    def user_summary(self, user_id: int) -> Statistic:
        return Statistic(*self._cached(f"user:{user_id}"))

    def identification_summary(self, days: int = 7) -> Statistic:
        return Statistic(*self._cached(f"identification:{days}"))

    def invalidate(self, scope: str) -> Statistic:
        """Drop one scope's cached statistics: all, overview, identification, forum:N, user:N."""
        if not SCOPE.match(scope):
            known = "all, overview, identification, forum:<id>, user:<id>"
            raise ValidationError(f"scope {scope!r} is not one of {known}")
        patterns = {"all": ["*"], "identification": ["identification:*"]}.get(
            scope, [scope, f"{scope}:*"]
        )
        dropped = self._cache.invalidate(patterns)
        return Statistic(
            {
                "scope": scope,
                "invalidated": dropped,
                "count": len(dropped),
                "computed_at": self._stamp(),
            },
            cached=False,
        )

    def expiring(self, *, read_within_s: float, lead_s: float, limit: int) -> list[str]:
        """Statistics read within `read_within_s` whose cached values end within `lead_s` (or
        are gone), soonest first: what a warmer recomputes now."""
        return self._warm_cache().expiring(read_within_s=read_within_s, lead_s=lead_s, limit=limit)

    def refresh(self, name: str) -> bool:
        """Recompute the cached statistic `name` (as `expiring` names it) in place, readers
        never missing it; False when it is being computed elsewhere right now."""
        ttl_s, compute = self._recipe(name)
        return self._warm_cache().refresh(name, ttl_s, compute)

    def _warm_cache(self) -> WarmCache:
        if not isinstance(self._cache, WarmCache):
            raise TypeError(f"{type(self._cache).__name__} cannot say what to warm")
        return self._cache

    def _with_online(self, name: str) -> Statistic:
        """A statistic joined with its online count, which is cached for less time."""
        totals, cached = self._cached(name)
        online, online_cached = self._cached(f"{name}:online")
        computed_at = min(totals["computed_at"], online["computed_at"])
        return Statistic({**totals, **online, "computed_at": computed_at}, cached and online_cached)

    # --- computations (cache misses) ---
    def _cached(self, name: str) -> tuple[dict[str, Any], bool]:
        value, cached = self._cache.get_or_compute(name, *self._recipe(name))
        return value, cached

    def _recipe(self, name: str) -> tuple[int, Callable[[], dict[str, Any]]]:
        """How long the statistic `name` stays cached, and how it is computed."""
        parts = NAME.fullmatch(name)
        shape = (parts["kind"], parts["id"] is not None, bool(parts["online"])) if parts else None
        n = int(parts["id"] or 0) if parts else 0
        ttls = self._ttls
        match shape:
            case ("overview", False, False):
                return ttls.overview_s, self._site_totals
            case ("overview", False, True):
                return ttls.online_s, lambda: self._online(None)
            case ("forum", True, False):
                return ttls.forum_s, lambda: self._forum_totals(n)
            case ("forum", True, True):
                return ttls.online_s, lambda: self._online(n)
            case ("user", True, False):
                return ttls.user_s, lambda: self._user_totals(n)
            case ("identification", True, False):
                return ttls.identification_s, lambda: self._identification_totals(n)
        raise ValidationError(f"no statistic is named {name!r}")

    def _stamp(self) -> str:
        return self._now().isoformat()

    def _site_totals(self) -> dict[str, Any]:
        totals = self._forums.site_totals()
        member = totals.latest_member
        return {
            "active_users": totals.active_users,
            "approved_topics": totals.approved_topics,
            "approved_posts": totals.approved_posts,
            "pending_review": totals.pending_review,
            "spam": totals.spam,
            "latest_member": None
            if member is None
            else {
                "id": member.id,
                "username": member.username,
                "joined_at": member.joined_at.isoformat(),
            },
            "computed_at": self._stamp(),
        }

    def _online(self, forum_id: int | None = None) -> dict[str, Any]:
        since = self._now() - ONLINE_WINDOW
        count = self._forums.online_users(since=since, forum_id=forum_id)
        return {"online_users": count, "computed_at": self._stamp()}

    def _forum_totals(self, forum_id: int) -> dict[str, Any]:
        totals = self._forums.forum_totals(forum_id, since=self._now() - timedelta(days=7))
        if totals is None:
            raise NotFound(f"forum {forum_id} does not exist")
        return {
            "forum_id": forum_id,
            "name": totals.name,
            "topics": totals.topics,
            "posts": totals.posts,
            "posts_last_7_days": totals.posts_since,
            "trending": totals.posts_since > TRENDING_POSTS_PER_WEEK,
            "computed_at": self._stamp(),
        }

    def _user_totals(self, user_id: int) -> dict[str, Any]:
        totals = self._forums.user_totals(user_id)
        if totals is None:
            raise NotFound(f"user {user_id} does not exist")
        values = asdict(totals)
        for key in ("first_activity", "last_activity"):
            values[key] = values[key].isoformat() if values[key] else None
        return values | {"computed_at": self._stamp()}

    def _identification_totals(self, days: int) -> dict[str, Any]:
        since = self._now() - timedelta(days=days)
        totals = self._identifications.totals(since=since)
        return {
            "days": days,
            "per_day": totals.per_day,
            "provider_success": {
                name: {
                    "ok": p.ok,
                    "attempted": p.attempted,
                    "ratio": round(p.ok / p.attempted, 4) if p.attempted else None,
                }
                for name, p in totals.providers.items()
            },
            "top_species": [{"name": name, "count": n} for name, n in totals.top_species],
            "total": totals.total,
            "cache_hit_ratio": round(totals.cache_hits / totals.total, 4) if totals.total else None,
            "computed_at": self._stamp(),
        }

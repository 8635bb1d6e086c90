"""What the statistics are computed from: repository interfaces and the figures they return."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class Member:
    """The newest member."""

    id: int
    username: str
    joined_at: datetime


@dataclass(frozen=True, kw_only=True)
class SiteTotals:
    """Site-wide counts (approved content only)."""

    active_users: int
    approved_topics: int
    approved_posts: int
    latest_member: Member | None
    pending_review: int = 0  # posts waiting for a moderator
    spam: int = 0  # posts moderators rejected


@dataclass(frozen=True, kw_only=True)
class ForumTotals:
    """One forum's counts (approved content only)."""

    forum_id: int
    name: str
    topics: int
    posts: int
    posts_since: int


@dataclass(frozen=True, kw_only=True)
class UserTotals:
    """One user's counts and the span of their activity (posts and topics, approved or not)."""

    user_id: int
    username: str
    posts: int
    topics: int
    first_activity: datetime | None
    last_activity: datetime | None


@dataclass(frozen=True, kw_only=True)
class ProviderTotals:
    """How often a provider answered, over identifications that were not cache hits."""

    ok: int
    attempted: int


@dataclass(frozen=True, kw_only=True)
class IdentificationTotals:
    """Identification figures since a moment."""

    per_day: dict[str, int]
    providers: dict[str, ProviderTotals]
    top_species: list[tuple[str, int]]
    total: int
    cache_hits: int


class ForumRepository(ABC):
    """Forum figures, each computed in the database in a fixed number of statements."""

    @abstractmethod
    def site_totals(self) -> SiteTotals: ...

    @abstractmethod
    def online_users(self, *, since: datetime, forum_id: int | None = None) -> int: ...

    @abstractmethod
    def forum_totals(self, forum_id: int, *, since: datetime) -> ForumTotals | None: ...

    @abstractmethod
    def user_totals(self, user_id: int) -> UserTotals | None: ...


class IdentificationRepository(ABC):
    """Identification figures from the records the identification service writes."""

    @abstractmethod
    def totals(self, *, since: datetime, top: int = 5) -> IdentificationTotals: ...

"""Each public task's result as a typed object, built from its JSON once it matches its schema."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Suggestion:
    """One species, with every provider that proposed it; `agreed` when both did."""

    name: str
    probability: float
    family: str | None
    genus: str | None
    common_names: list[str]
    gbif_id: int | None
    providers: list[str]
    agreed: bool


@dataclass(frozen=True, kw_only=True)
class SourceReport:
    """How one provider did: ok, failed (with the reason) or skipped (breaker open, throttled)."""

    status: str
    latency_ms: float | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Identification:
    """`identification.identify`: merged suggestions, best first, and each provider's report."""

    image_sha256: str
    is_plant: bool
    suggestions: list[Suggestion]
    sources: dict[str, SourceReport]
    cached: bool
    version: int
    request_id: str | None


@dataclass(frozen=True, kw_only=True)
class Member:
    id: int
    username: str
    joined_at: datetime


@dataclass(frozen=True, kw_only=True)
class ForumOverview:
    """`statistics.forum_overview`: site-wide totals, users online, the latest member."""

    active_users: int
    approved_topics: int
    approved_posts: int
    pending_review: int  # posts waiting for a moderator
    spam: int  # posts moderators rejected
    latest_member: Member | None
    online_users: int
    computed_at: datetime
    cached: bool


@dataclass(frozen=True, kw_only=True)
class ForumDetail:
    """`statistics.forum_detail`: one forum's topics, posts, weekly posts and trend."""

    forum_id: int
    name: str
    topics: int
    posts: int
    posts_last_7_days: int
    trending: bool
    online_users: int
    computed_at: datetime
    cached: bool


@dataclass(frozen=True, kw_only=True)
class UserSummary:
    """`statistics.user_summary`: one user's posts, topics and span of activity."""

    user_id: int
    username: str
    posts: int
    topics: int
    first_activity: datetime | None
    last_activity: datetime | None
    computed_at: datetime
    cached: bool


@dataclass(frozen=True, kw_only=True)
class ProviderSuccess:
    ok: int
    attempted: int
    ratio: float | None


@dataclass(frozen=True, kw_only=True)
class SpeciesCount:
    name: str
    count: int


@dataclass(frozen=True, kw_only=True)
class IdentificationSummary:
    """`statistics.identification_summary`: per day, per provider, top species, cache hits."""

    days: int
    per_day: dict[str, int]
    provider_success: dict[str, ProviderSuccess]
    top_species: list[SpeciesCount]
    total: int
    cache_hit_ratio: float | None
    computed_at: datetime
    cached: bool


@dataclass(frozen=True, kw_only=True)
class Invalidated:
    """`statistics.invalidate`: the cache keys dropped for a scope."""

    scope: str
    invalidated: list[str]
    count: int
    computed_at: datetime
    cached: bool


@dataclass(frozen=True, kw_only=True)
class ServiceRun:
    """`services.run`: whether the periodic service ran, and how it went (or why not)."""

    service: str
    ran: bool
    ok: bool
    items: int
    duration_s: float
    skipped: str | None
    error: str | None


@dataclass(frozen=True, kw_only=True)
class PostScore:
    """`moderation.score_post`: the spam score, why, and whether the post waits for review."""

    post_id: int
    score: float
    reasons: list[str]
    duplicate_of: int | None
    review_status: str | None
    cached: bool


@dataclass(frozen=True, kw_only=True)
class ReviewItem:
    """A post waiting for a moderator."""

    post_id: int
    author_id: int
    username: str
    excerpt: str
    spam_score: float
    reasons: list[str]
    duplicate_of: int | None
    approved: bool
    created_at: datetime
    priority: float


@dataclass(frozen=True, kw_only=True)
class ReviewQueue:
    """`moderation.review_queue`: the posts waiting, most urgent first."""

    items: list[ReviewItem]
    limit: int
    offset: int


@dataclass(frozen=True, kw_only=True)
class Decision:
    """`moderation.decide`: the decision taken and the post's review state now."""

    post_id: int
    decision: str
    review_status: str


def build(cls: type[T], data: Any) -> T:
    """`cls` from JSON already checked against its schema (nested dataclasses, lists, dicts,
    ISO dates, optional fields); fields the schema does not know yet are ignored."""
    return typing.cast(T, _convert(cls, data))


def _convert(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):  # X | None
        return _convert(next(arg for arg in args if arg is not type(None)), value)
    if origin is list:
        return [_convert(args[0], item) for item in value]
    if origin is dict:
        return {key: _convert(args[1], item) for key, item in value.items()}
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is float:
        return float(value)
    if dataclasses.is_dataclass(kind):
        built: Any = kind  # a dataclass type: called with its fields
        types_of = _field_types(built)
        return built(**{k: _convert(types_of[k], v) for k, v in value.items() if k in types_of})
    return value


@functools.cache
def _field_types(kind: Any) -> dict[str, Any]:
    """A dataclass's field names and types, resolved once (its annotations are strings)."""
    hints = typing.get_type_hints(kind)
    return {field.name: hints[field.name] for field in dataclasses.fields(kind)}

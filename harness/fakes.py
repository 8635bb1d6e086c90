"""Hand-written fakes of every boundary bootstrap() wires, for unit tests of pure logic.

`wired(**overrides)` is bootstrap's graph with a fake at every boundary: nothing in it opens a
connection, starts a process or reads the clock unless a test hands in the real thing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import replace
from datetime import UTC, datetime
from fnmatch import fnmatch
from typing import Any, TypeVar, Unpack

from services.background.lifecycle import Status
from services.bootstrap import Container, Overrides, bootstrap
from services.delivery.deadletters import DeadLetter, DeadLetterStore
from services.errors import TransientError
from services.identification.budget import QuotaBudget
from services.identification.payload import IdentifyRequest
from services.identification.providers import Provider, ProviderAnswer, Suggestion
from services.identification.records import IdentificationRecord, IdentificationRecords
from services.moderation.sql import DECISIONS, PostFacts, ReviewItem, Scored
from services.resilience.breaker import BreakerOpen
from services.settings import Settings
from services.statistics.repositories import (
    ForumRepository,
    ForumTotals,
    IdentificationRepository,
    IdentificationTotals,
    SiteTotals,
    UserTotals,
)

T = TypeVar("T")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SITE = SiteTotals(active_users=0, approved_topics=0, approved_posts=0, latest_member=None)
NO_IDENTIFICATIONS = IdentificationTotals(
    per_day={}, providers={}, top_species=[], total=0, cache_hits=0
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


class FakeProvider(Provider):
    """Answers from a script: each call takes the next item (an answer, or an exception to
    raise); the last item repeats. Records every request it was asked."""

    def __init__(self, name: str, *script: ProviderAnswer | Exception) -> None:
        self.name = name
        self._script = list(script) or [answer(name, "Monstera deliciosa", 0.9)]
        self.asked: list[IdentifyRequest] = []

    def identify(self, request: IdentifyRequest, *, deadline: float) -> ProviderAnswer:
        self.asked.append(request)
        step = self._script.pop(0) if len(self._script) > 1 else self._script[0]
        if isinstance(step, Exception):
            raise step
        return step


def answer(provider: str, *species: str | float, is_plant: bool = True) -> ProviderAnswer:
    """answer("plant_id", "Monstera deliciosa", 0.9, "Ficus elastica", 0.1)."""
    pairs = zip(species[::2], species[1::2], strict=True)
    suggestions = tuple(Suggestion(name=str(n), probability=float(p)) for n, p in pairs)
    return ProviderAnswer(provider=provider, is_plant=is_plant, suggestions=suggestions)


class FakeBreaker:
    """Passes calls through while closed; `open_for(s)` makes it refuse them as a real one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.wait_s = 0.0
        self.calls = 0

    def open_for(self, wait_s: float) -> None:
        self.wait_s = wait_s

    @property
    def current_state(self) -> str:
        return "open" if self.wait_s > 0 else "closed"

    def call(self, func: Callable[..., T], *args: object, **kwargs: object) -> T:
        if self.wait_s > 0:
            raise BreakerOpen(self.name, self.wait_s)
        self.calls += 1
        return func(*args, **kwargs)


class FakeFlight:
    """A dict instead of Redis and a lock: a value is computed on a miss and kept."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.ttls: dict[str, int] = {}

    def get_or_compute(
        self, key: str, compute: Callable[[], Any], *, ttl_s: Callable[[Any], int] | None = None
    ) -> tuple[Any, bool]:
        if key in self.values:
            return self.values[key], True
        value = self.values[key] = compute()
        if ttl_s is not None:
            self.ttls[key] = ttl_s(value)
        return value, False


class FakeRecords(IdentificationRecords):
    """Records kept in a dict by idempotency key, as the table's unique constraint does."""

    def __init__(self) -> None:
        self.rows: dict[str, IdentificationRecord] = {}

    def add(self, record: IdentificationRecord) -> bool:
        if record.idempotency_key in self.rows:
            return False
        self.rows[record.idempotency_key] = record
        return True


class FakeDeadLetters(DeadLetterStore):
    """Letters in a list; ids are positions from 1."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []
        self.replayed: dict[int, str] = {}

    def record(self, letter: DeadLetter) -> int:
        self.letters.append(letter)
        return len(self.letters)

    def list(
        self, *, limit: int = 50, since: datetime | None = None, waiting: bool = False
    ) -> list[DeadLetter]:
        chosen = [
            letter
            for n, letter in enumerate(self.letters, start=1)
            if (since is None or letter.failed_at >= since) and not (waiting and n in self.replayed)
        ]
        return chosen[-limit:][::-1]

    def summary(self) -> dict[str, Any]:
        newest = self.letters[-1] if self.letters else None
        return {
            "total": len(self.letters),
            "waiting": len(self.letters) - len(self.replayed),
            "newest_at": newest.failed_at.isoformat() if newest else None,
            "newest_task": newest.task_name if newest else None,
        }

    def get(self, letter_id: int) -> DeadLetter | None:
        return self.letters[letter_id - 1] if 0 < letter_id <= len(self.letters) else None

    def mark_replayed(self, letter_id: int, *, replay_task_id: str) -> None:
        self.replayed[letter_id] = replay_task_id


class InlinePool(Executor):
    """Runs each submitted call at once in the caller's thread (deterministic unit tests)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class FakeLimiter:
    """Admits every call at once; notes pauses, refunds and reported counts."""

    def __init__(self) -> None:
        self.paused: dict[str, float] = {}
        self.refunded: list[str] = []
        self.synced: dict[str, tuple[int, int | None]] = {}

    def acquire(self, provider: str, *, wait_s: float, keep_share: float = 0.0) -> None:
        pass

    def pause(self, provider: str, seconds: float) -> float:
        self.paused[provider] = seconds
        return seconds

    def refund(self, provider: str) -> None:
        self.refunded.append(provider)

    def sync(self, provider: str, *, remaining: int, limit: int | None = None) -> None:
        self.synced[provider] = (remaining, limit)


class FakeModerationStore:
    """Posts in a dict (services/moderation/sql.py's interface); duplicates by exact hash only."""

    def __init__(self, posts: dict[int, PostFacts] | None = None) -> None:
        self.posts = dict(posts or {})
        self.saved: dict[int, Scored] = {}
        self.unscorable: dict[int, str] = {}
        self.decisions: list[tuple[int, str]] = []
        self.poison: set[int] = set()  # facts() of these raise, as a broken row would

    def facts(self, post_id: int, *, burst_s: float) -> PostFacts | None:
        if post_id in self.poison:
            raise ValueError(f"post {post_id}: row cannot be read")
        return self.posts.get(post_id)

    def duplicates(
        self, facts: PostFacts, content_hash: str, bands: Any, simhash: int, *, window_s: float
    ) -> int | None:
        earlier = [
            post_id
            for post_id, scored in self.saved.items()
            if post_id != facts.post_id and scored.content_hash == content_hash
        ]
        return min(earlier, default=None)

    def save(self, facts: PostFacts, scored: Scored, *, at: datetime) -> None:
        self.saved[facts.post_id] = scored

    def mark_unscorable(self, post_id: int, reason: str, *, at: datetime) -> None:
        self.unscorable[post_id] = reason

    def backlog(self, *, limit: int) -> list[int]:
        done = set(self.saved) | set(self.unscorable)
        return sorted((set(self.posts) | self.poison) - done)[:limit]

    def queue(self, *, limit: int, offset: int, now: datetime) -> list[ReviewItem]:
        return []

    def decide(self, post_id: int, decision: str, *, at: datetime) -> str | None:
        if post_id not in self.posts:
            return None
        self.decisions.append((post_id, decision))
        status = DECISIONS[decision]
        approved = status != "rejected"
        self.posts[post_id] = replace(self.posts[post_id], review_status=status, approved=approved)
        return status


def wired(settings: Settings | None = None, **overrides: Unpack[Overrides]) -> Container:
    """bootstrap()'s graph with a fake at every boundary (override any of them)."""
    fakes: Overrides = {
        "providers": [FakeProvider("plant_id"), FakeProvider("plantnet")],
        "breakers": {"plant_id": FakeBreaker("plant_id"), "plantnet": FakeBreaker("plantnet")},
        "identification_flight": FakeFlight(),
        "pools": lambda _name: InlinePool(),
        "records": FakeRecords(),
        "forums": FakeForumRepository(site=SITE, forums={}, users={}),
        "identification_totals": FakeIdentificationRepository(NO_IDENTIFICATIONS),
        "stats_cache": FakeStatsCache(),
        "dead_letters": FakeDeadLetters(),
        "clock": lambda: NOW,
        "budget": QuotaBudget(FakeLimiter()),
        "moderation_store": FakeModerationStore(),
    }
    fakes.update(overrides)
    return bootstrap(settings or Settings(), **fakes)


def transient(message: str = "HTTP 503", *, min_delay_s: float = 0.0) -> TransientError:
    return TransientError(message, min_delay_s=min_delay_s)


class FakeServiceStore:
    """Services' statuses and runs in dicts (services/background/state.py's interface)."""

    def __init__(self) -> None:
        self.statuses: dict[str, Status] = {}
        self.runs: list[tuple[str, bool, int]] = []

    def status(self, service_id: str) -> Status:
        return self.statuses.get(service_id, Status())

    def save(self, service_id: str, status: Status) -> None:
        self.statuses[service_id] = status

    def record_run(
        self,
        service_id: str,
        *,
        ok: bool,
        items: int,
        started_at: float,
        duration_s: float,
        health: dict[str, Any] | None = None,
    ) -> None:
        self.runs.append((service_id, ok, items))

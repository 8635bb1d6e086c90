"""Moderation: score a post (cached in Redis under its text's and the rules' fingerprints, so a
changed post or changed rules are scored afresh), find its duplicates, keep the review queue."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Protocol

import redis

from services import metrics
from services.errors import PermanentError, ValidationError, classify
from services.moderation import fingerprints
from services.moderation.scoring import Facts, Rules, score
from services.moderation.sql import DECISIONS, UNDECIDED, PostFacts, ReviewItem, Scored
from services.resilience.cache import JsonCache

log = logging.getLogger(__name__)
WINDOW_S = 7 * 86_400.0  # duplicates are looked for among the week's posts before


class ModerationStore(Protocol):
    """Where posts' scores and review states live (services/moderation/sql.py, or a fake)."""

    def facts(self, post_id: int, *, burst_s: float) -> PostFacts | None: ...

    def duplicates(
        self,
        facts: PostFacts,
        content_hash: str,
        bands: Sequence[int],
        simhash: int,
        *,
        window_s: float,
    ) -> int | None: ...

    def save(self, facts: PostFacts, scored: Scored, *, at: datetime) -> None: ...

    def mark_unscorable(self, post_id: int, reason: str, *, at: datetime) -> None: ...

    def backlog(self, *, limit: int) -> list[int]: ...

    def queue(self, *, limit: int, offset: int, now: datetime) -> list[ReviewItem]: ...

    def decide(self, post_id: int, decision: str, *, at: datetime) -> str | None: ...


class UnknownPost(PermanentError):
    """No post has this id."""


@dataclass(frozen=True, kw_only=True)
class PostScore:
    """A post's score, why, whether it waits for a moderator, and whether it came cached."""

    post_id: int
    score: float
    reasons: list[str]
    duplicate_of: int | None
    review_status: str | None
    cached: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def rules_from(options: Mapping[str, Any]) -> Rules:
    """The moderation service's live options as scoring rules (unknown keys left to others)."""
    known = {f.name for f in fields(Rules)}
    given: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in options.items() if k in known
    }
    return Rules(**given)


class ModerationService:
    """Scores posts and serves the review queue; rules are read at every call (live config)."""

    def __init__(
        self,
        *,
        store: ModerationStore,
        cache: JsonCache | None,
        rules: Callable[[], Rules],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        window_s: float = WINDOW_S,
    ) -> None:
        self._store = store
        self._cache = cache
        self._rules = rules
        self._now = clock
        self._window_s = window_s

    def score_post(self, post_id: int) -> PostScore:
        """Score one post (again, if its text or the rules changed) and store the result."""
        return self._score(post_id, self._rules())

    def _score(self, post_id: int, rules: Rules) -> PostScore:
        facts = self._store.facts(post_id, burst_s=rules.burst_s)
        if facts is None:
            raise UnknownPost(f"post {post_id} does not exist")
        digest = fingerprints.content_hash(facts.content)
        key = f"score:{post_id}:{rules.digest}:{digest}"
        cached = self._cached(key)
        if cached is not None:  # the status as stored now: a moderator may have decided since
            return PostScore(**(cached | {"review_status": facts.review_status}), cached=True)
        scored = self._scored(facts, rules, digest)
        self._store.save(facts, scored, at=self._now())
        decided = facts.review_status not in UNDECIDED  # save() keeps a decision too
        result = PostScore(
            post_id=post_id,
            score=scored.score,
            reasons=list(scored.reasons),
            duplicate_of=scored.duplicate_of,
            review_status=facts.review_status if decided else scored.review_status,
            cached=False,
        )
        self._remember(key, result)
        return result

    def score_backlog(self, *, limit: int) -> tuple[int, int]:
        """Score up to `limit` posts never scored, each on its own: (scored, failed). A post
        that fails for good leaves the backlog for the review queue, saying why; a transient
        failure (the database away) stops the batch to be tried again next run."""
        done = failed = 0
        rules = self._rules()  # one read of the live options for the whole batch
        for post_id in self._store.backlog(limit=limit):
            try:
                self._score(post_id, rules)
                done += 1
            except Exception as exc:
                if classify(exc).transient:
                    raise
                log.warning("moderation: post %s could not be scored: %s", post_id, exc)
                reason = f"could not be scored: {type(exc).__name__}: {exc}"[:300]
                self._store.mark_unscorable(post_id, reason, at=self._now())
                failed += 1
        return done, failed

    def review_queue(self, *, limit: int = 50, offset: int = 0) -> list[ReviewItem]:
        return self._store.queue(limit=limit, offset=offset, now=self._now())

    def decide(self, post_id: int, decision: str) -> dict[str, Any]:
        """A moderator's decision: approve, reject, or not_spam (which counts for the author)."""
        if decision not in DECISIONS:
            raise ValidationError(f"decision: {decision!r} is not one of {', '.join(DECISIONS)}")
        status = self._store.decide(post_id, decision, at=self._now())
        if status is None:
            raise UnknownPost(f"post {post_id} does not exist")
        return {"post_id": post_id, "decision": decision, "review_status": status}

    def _scored(self, facts: PostFacts, rules: Rules, digest: str) -> Scored:
        simhash = fingerprints.simhash(facts.content)
        bands = fingerprints.bands(simhash)
        duplicate_of = self._store.duplicates(
            facts, digest, bands, simhash, window_s=self._window_s
        )
        found = score(
            Facts(
                content=facts.content,
                author_age_s=(facts.created_at - facts.author_joined_at).total_seconds(),
                author_recent_posts=facts.author_recent_posts,
            ),
            rules,
        )
        reasons = found.reasons + ((f"duplicate of post {duplicate_of}",) if duplicate_of else ())
        waits = found.value >= rules.threshold or duplicate_of is not None or not facts.approved
        return Scored(
            content_hash=digest,
            simhash=simhash,
            bands=bands,
            score=found.value,
            reasons=reasons,
            duplicate_of=duplicate_of,
            review_status="pending" if waits else None,
        )

    def _cached(self, key: str) -> dict[str, Any] | None:
        if self._cache is None:
            return None
        try:
            value = self._cache.get(key)
        except redis.RedisError as exc:  # scored from the database instead
            log.warning("moderation: score cache unreachable (%s)", type(exc).__name__)
            metrics.cache_request("moderation", "error")
            return None
        metrics.cache_request("moderation", "hit" if value else "miss")
        return dict(value) if value else None

    def _remember(self, key: str, result: PostScore) -> None:
        if self._cache is None:
            return
        value = {k: v for k, v in result.to_dict().items() if k != "cached"}
        try:
            self._cache.set(key, value)
        except redis.RedisError as exc:
            log.warning("moderation: score not cached (%s)", type(exc).__name__)

"""Moderation's reads and writes in SQL: each call issues the same statements whatever the size
of the forum or of the window, never a loop loading posts one by one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from services.db import utc
from services.moderation.fingerprints import NEAR_BITS, distance
from services.moderation.models import ModerationDecision, PostBand
from services.statistics.models import Post, User

DECISIONS = {"approve": "approved", "reject": "rejected", "not_spam": "not_spam"}
UNDECIDED = (None, "pending")  # review states that scoring may change; a decision it keeps
CANDIDATES = 200  # near-duplicate candidates weighed per post, those sharing most bands first


@dataclass(frozen=True, kw_only=True)
class PostFacts:
    """A post and what scoring needs of its author."""

    post_id: int
    content: str
    approved: bool
    review_status: str | None  # as stored: a moderator's decision stands when scored again
    created_at: datetime
    author_id: int
    author_joined_at: datetime
    author_recent_posts: int


@dataclass(frozen=True, kw_only=True)
class Scored:
    """What scoring found, to be stored on the post."""

    content_hash: str
    simhash: int
    bands: tuple[int, ...]
    score: float
    reasons: tuple[str, ...]
    duplicate_of: int | None
    review_status: str | None  # pending, or None when nothing calls for a moderator


@dataclass(frozen=True, kw_only=True)
class ReviewItem:
    """One post waiting for a moderator, with why it waits and its place in the queue."""

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

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "created_at": self.created_at.isoformat()}


class SqlModeration:
    """Posts' fingerprints, scores and review state in the forum database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def facts(self, post_id: int, *, burst_s: float) -> PostFacts | None:
        """The post, its author's sign-up, and the author's posts in the burst before it (two
        statements)."""
        query = (
            select(
                Post.content,
                Post.approved,
                Post.created_at,
                User.id,
                User.created_at,
                Post.review_status,
            )
            .join(User, User.id == Post.user_id)
            .where(Post.id == post_id)
        )
        with self._sessions() as session:
            row = session.execute(query).first()
            if row is None:
                return None
            created_at = utc(row[2])
            burst = select(func.count()).where(
                Post.user_id == row[3],
                Post.created_at <= created_at,
                Post.created_at >= created_at - timedelta(seconds=burst_s),
            )
            recent = int(session.scalar(burst) or 0)
        return PostFacts(
            post_id=post_id,
            content=row[0],
            approved=row[1],
            review_status=row[5],
            created_at=created_at,
            author_id=row[3],
            author_joined_at=utc(row[4]),
            author_recent_posts=recent,
        )

    def duplicates(
        self,
        facts: PostFacts,
        content_hash: str,
        bands: Sequence[int],
        simhash: int,
        *,
        window_s: float,
    ) -> int | None:
        """The earliest earlier post in the window with the same normalised text, else the
        nearest near-duplicate (simhash within NEAR_BITS): two statements, whatever the window.

        Candidates share a band; a near-duplicate within six bits shares at least two, where a
        chance collision almost never does, so the candidates sharing most bands are weighed
        first (at most CANDIDATES of them)."""
        since = facts.created_at - timedelta(seconds=window_s)
        in_window = (
            Post.created_at >= since,
            Post.created_at <= facts.created_at,
            Post.id != facts.post_id,
        )
        exact = select(Post.id).where(Post.content_hash == content_hash, *in_window)
        # One equality pair per band, OR-ed: each an index range scan over the window (a row-value
        # IN list made PostgreSQL scan every band of every post).
        wanted = or_(*(and_(PostBand.band == n, PostBand.value == v) for n, v in enumerate(bands)))
        shared = func.count().label("shared")
        near = (
            select(PostBand.post_id, PostBand.simhash, shared)
            .where(
                wanted,
                PostBand.created_at >= since,
                PostBand.created_at <= facts.created_at,
                PostBand.post_id != facts.post_id,
            )
            .group_by(PostBand.post_id, PostBand.simhash)
            .order_by(shared.desc(), PostBand.post_id)
            .limit(CANDIDATES)
        )
        with self._sessions() as session:
            found = session.scalar(exact.order_by(Post.id).limit(1))
            if found is not None:
                return int(found)
            candidates = session.execute(near).all()
        close = [(distance(value, simhash), post_id) for post_id, value, _shared in candidates]
        close = [pair for pair in close if pair[0] <= NEAR_BITS]
        return min(close)[1] if close else None

    def save(self, facts: PostFacts, scored: Scored, *, at: datetime) -> None:
        """The score, fingerprints and review state on the post, its bands beside it: one
        transaction, so a post is scored whole or not at all."""
        values = {
            "content_hash": scored.content_hash,
            "simhash": scored.simhash,
            "spam_score": scored.score,
            "spam_reasons": json.dumps(list(scored.reasons)),
            "scored_at": at,
            "duplicate_of": scored.duplicate_of,
        }
        bands = [
            {
                "post_id": facts.post_id,
                "band": n,
                "value": v,
                "created_at": facts.created_at,
                "simhash": scored.simhash,
            }
            for n, v in enumerate(scored.bands)
        ]
        undecided = Post.review_status.is_(None) | (Post.review_status == "pending")
        with self._sessions.begin() as session:
            session.execute(update(Post).where(Post.id == facts.post_id).values(values))
            session.execute(  # a moderator's decision stands when the post is scored again
                update(Post)
                .where(Post.id == facts.post_id, undecided)
                .values(review_status=scored.review_status)
            )
            session.execute(delete(PostBand).where(PostBand.post_id == facts.post_id))
            session.execute(insert(PostBand), bands)

    def mark_unscorable(self, post_id: int, reason: str, *, at: datetime) -> None:
        """A post scoring failed on for good: out of the backlog, into the review queue."""
        values = {"scored_at": at, "spam_reasons": json.dumps([reason]), "review_status": "pending"}
        with self._sessions.begin() as session:
            session.execute(update(Post).where(Post.id == post_id).values(values))

    def backlog(self, *, limit: int) -> list[int]:
        """Posts never scored, oldest first."""
        query = select(Post.id).where(Post.scored_at.is_(None)).order_by(Post.id).limit(limit)
        with self._sessions() as session:
            return list(session.scalars(query))

    def queue(self, *, limit: int, offset: int, now: datetime) -> list[ReviewItem]:
        """Posts waiting for a moderator, most urgent first (one statement)."""
        with self._sessions() as session:
            priority = _priority(now, dialect=session.get_bind().dialect.name)
            query = (
                select(
                    Post.id,
                    User.id,
                    User.username,
                    func.substr(Post.content, 1, 200),
                    Post.spam_score,
                    Post.spam_reasons,
                    Post.duplicate_of,
                    Post.approved,
                    Post.created_at,
                    priority,
                )
                .join(User, User.id == Post.user_id)
                .where(Post.review_status == "pending")
                .order_by(priority.desc(), Post.id)
                .limit(limit)
                .offset(offset)
            )
            rows = session.execute(query).all()
        return [
            ReviewItem(
                post_id=r[0],
                author_id=r[1],
                username=r[2],
                excerpt=r[3],
                spam_score=float(r[4] or 0.0),
                reasons=json.loads(r[5] or "[]"),
                duplicate_of=r[6],
                approved=bool(r[7]),
                created_at=utc(r[8]),
                priority=round(float(r[9]), 4),
            )
            for r in rows
        ]

    def decide(self, post_id: int, decision: str, *, at: datetime) -> str | None:
        """Record a moderator's decision; the post's new status, or None for an unknown post."""
        status = DECISIONS[decision]
        with self._sessions.begin() as session:
            author = session.scalar(select(Post.user_id).where(Post.id == post_id))
            if author is None:
                return None
            approved = status != "rejected"
            session.execute(
                update(Post)
                .where(Post.id == post_id)
                .values(review_status=status, approved=approved)
            )
            history = {"rejected": "spam_rejections", "not_spam": "not_spam_marks"}.get(status)
            if history is not None:
                column = getattr(User, history)
                session.execute(update(User).where(User.id == author).values({history: column + 1}))
            session.execute(
                insert(ModerationDecision).values(post_id=post_id, decision=status, decided_at=at)
            )
        return status


def _capped(value: Any, top: int) -> ColumnElement[Any]:
    return case((value > top, literal(top)), else_=value)


def _priority(now: datetime, *, dialect: str) -> ColumnElement[Any]:
    """The score, plus: a day waited (up to five), each spam rejection of the author (up to
    four), a duplicate or an unapproved post; minus each time the author was marked not spam."""
    if dialect == "postgresql":
        waited_days = func.extract("epoch", literal(now) - Post.created_at) / 86_400
    else:  # SQLite keeps times as text: julianday reads them
        waited_days = func.julianday(literal(now.isoformat())) - func.julianday(Post.created_at)
    return (
        func.coalesce(Post.spam_score, 0.0)
        + 0.1 * _capped(waited_days, 5)
        + 0.15 * _capped(User.spam_rejections, 4)
        - 0.15 * _capped(User.not_spam_marks, 4)
        + case((Post.duplicate_of.is_not(None), 0.2), else_=0.0)
        + case((Post.approved.is_(False), 0.1), else_=0.0)
    )

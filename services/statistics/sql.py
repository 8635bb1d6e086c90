"""SQLAlchemy repositories: every figure is a COUNT/GROUP BY in the database, never a Python loop
over rows, and each call issues the same number of statements whatever the size of the data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from services.db import utc
from services.identification.records import IdentificationRow
from services.statistics.models import Forum, Post, Topic, User
from services.statistics.repositories import (
    ForumRepository,
    ForumTotals,
    IdentificationRepository,
    IdentificationTotals,
    Member,
    ProviderTotals,
    SiteTotals,
    UserTotals,
)

PROVIDERS = {
    "plant_id": IdentificationRow.plant_id_status,
    "plantnet": IdentificationRow.plantnet_status,
}


def _count(*where: Any) -> Select[Any]:
    return select(func.count()).where(*where)


class SqlForumRepository(ForumRepository):
    """Forum figures over the users, forums, topics and posts tables."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def site_totals(self) -> SiteTotals:
        counts = select(
            _count(User.is_active.is_(True)).select_from(User).scalar_subquery(),
            _count(Topic.approved.is_(True)).select_from(Topic).scalar_subquery(),
            _count(Post.approved.is_(True)).select_from(Post).scalar_subquery(),
            _count(Post.review_status == "pending").select_from(Post).scalar_subquery(),
            _count(Post.review_status == "rejected").select_from(Post).scalar_subquery(),
        )
        newest = select(User.id, User.username, User.created_at)
        newest = newest.order_by(User.created_at.desc(), User.id.desc()).limit(1)
        with self._sessions() as session:
            users, topics, posts, pending, spam = session.execute(counts).one()
            latest = session.execute(newest).first()
        member = (
            Member(id=latest[0], username=latest[1], joined_at=utc(latest[2])) if latest else None
        )
        return SiteTotals(
            active_users=users,
            approved_topics=topics,
            approved_posts=posts,
            latest_member=member,
            pending_review=pending,
            spam=spam,
        )

    def online_users(self, *, since: datetime, forum_id: int | None = None) -> int:
        query = _count(User.last_seen_at >= since).select_from(User)
        if forum_id is not None:
            query = query.where(User.last_seen_forum_id == forum_id)
        with self._sessions() as session:
            return int(session.execute(query).scalar_one())

    def forum_totals(self, forum_id: int, *, since: datetime) -> ForumTotals | None:
        approved = (Post.forum_id == forum_id, Post.approved.is_(True))
        query = select(
            Forum.name,
            _count(Topic.forum_id == forum_id, Topic.approved.is_(True))
            .select_from(Topic)
            .scalar_subquery(),
            _count(*approved).select_from(Post).scalar_subquery(),
            _count(*approved, Post.created_at >= since).select_from(Post).scalar_subquery(),
        ).where(Forum.id == forum_id)
        with self._sessions() as session:
            row = session.execute(query).first()
        if row is None:
            return None
        name, topics, posts, recent = row
        return ForumTotals(
            forum_id=forum_id, name=name, topics=topics, posts=posts, posts_since=recent
        )

    def user_totals(self, user_id: int) -> UserTotals | None:
        activity = union_all(
            select(Post.created_at.label("at")).where(Post.user_id == user_id),
            select(Topic.created_at.label("at")).where(Topic.user_id == user_id),
        ).subquery()
        query = select(
            User.username,
            _count(Post.user_id == user_id, Post.approved.is_(True))
            .select_from(Post)
            .scalar_subquery(),
            _count(Topic.user_id == user_id, Topic.approved.is_(True))
            .select_from(Topic)
            .scalar_subquery(),
            select(func.min(activity.c.at)).scalar_subquery(),
            select(func.max(activity.c.at)).scalar_subquery(),
        ).where(User.id == user_id)
        with self._sessions() as session:
            row = session.execute(query).first()
        if row is None:
            return None
        username, posts, topics, first, last = row
        return UserTotals(
            user_id=user_id,
            username=username,
            posts=posts,
            topics=topics,
            first_activity=first and utc(first),
            last_activity=last and utc(last),
        )


class SqlIdentificationRepository(IdentificationRepository):
    """Identification figures over the identifications table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def totals(self, *, since: datetime, top: int = 5) -> IdentificationTotals:
        recent = IdentificationRow.created_at >= since
        day = func.date(IdentificationRow.created_at)
        per_day = select(day, func.count()).where(recent).group_by(day).order_by(day)
        fresh = IdentificationRow.cached.is_(False)
        sums = [
            func.count(),
            func.coalesce(func.sum(case((IdentificationRow.cached, 1), else_=0)), 0),
        ]
        for column in PROVIDERS.values():
            sums.append(func.coalesce(func.sum(case((fresh & (column == "ok"), 1), else_=0)), 0))
        sums.append(func.coalesce(func.sum(case((fresh, 1), else_=0)), 0))
        species = IdentificationRow.top_species
        ranked = (
            select(species, func.count().label("n"))
            .where(recent, species.is_not(None))
            .group_by(species)
            .order_by(literal_column("n").desc(), species)
            .limit(top)
        )
        with self._sessions() as session:
            days = {str(d): n for d, n in session.execute(per_day)}
            total, hits, *ok, attempted = session.execute(select(*sums).where(recent)).one()
            tops = [(str(name), int(n)) for name, n in session.execute(ranked)]
        providers = {
            name: ProviderTotals(ok=int(count), attempted=int(attempted))
            for name, count in zip(PROVIDERS, ok, strict=True)
        }
        return IdentificationTotals(
            per_day=days,
            providers=providers,
            top_species=tops,
            total=int(total),
            cache_hits=int(hits),
        )

"""Forum tables (SQLAlchemy 2.0 typed mappings); relationships raise on lazy load (no N+1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base


class User(Base):
    """A community member; `last_seen_*` say where and when they were last active."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id"))
    # The author's moderation history: posts rejected as spam, posts marked not spam.
    spam_rejections: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_spam_marks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    posts: Mapped[list[Post]] = relationship(back_populates="author", lazy="raise")

    __table_args__ = (Index("ix_users_forum_seen", "last_seen_forum_id", "last_seen_at"),)


class Forum(Base):
    """A board; forums nest under an optional parent."""

    __tablename__ = "forums"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id"), index=True)

    topics: Mapped[list[Topic]] = relationship(back_populates="forum", lazy="raise")


class Topic(Base):
    """A thread in a forum."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    forum: Mapped[Forum] = relationship(back_populates="topics", lazy="raise")
    posts: Mapped[list[Post]] = relationship(back_populates="topic", lazy="raise")

    __table_args__ = (Index("ix_topics_forum_approved", "forum_id", "approved"),)


_UNSCORED = text("scored_at IS NULL")
_PENDING = text("review_status = 'pending'")


class Post(Base):
    """A message in a topic; `forum_id` is copied from the topic so forum counts need no join.
    Moderation adds its fingerprints, its spam score and reasons, and its review state
    (pending, approved, rejected, not_spam; none until scored, or when nothing is wrong)."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    spam_score: Mapped[float | None] = mapped_column(Float)
    spam_reasons: Mapped[str | None] = mapped_column(Text)  # JSON list
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_status: Mapped[str | None] = mapped_column(String(16))
    duplicate_of: Mapped[int | None] = mapped_column(Integer)

    topic: Mapped[Topic] = relationship(back_populates="posts", lazy="raise")
    author: Mapped[User] = relationship(back_populates="posts", lazy="raise")

    __table_args__ = (
        Index("ix_posts_forum_approved_created", "forum_id", "approved", "created_at"),
        Index("ix_posts_user_approved_created", "user_id", "approved", "created_at"),
        Index("ix_posts_approved_created", "approved", "created_at"),
        Index("ix_posts_content_hash_created", "content_hash", "created_at"),
        Index("ix_posts_review_status", "review_status"),
        Index("ix_posts_unscored", "id", postgresql_where=_UNSCORED, sqlite_where=_UNSCORED),
        Index(
            "ix_posts_pending_review",
            "spam_score",
            "created_at",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
    )

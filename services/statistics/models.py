"""Forum tables (SQLAlchemy 2.0 typed mappings); relationships raise on lazy load (no N+1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
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


class Post(Base):
    """A message in a topic; `forum_id` is copied from the topic so forum counts need no join."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content: Mapped[str] = mapped_column(Text)

    topic: Mapped[Topic] = relationship(back_populates="posts", lazy="raise")
    author: Mapped[User] = relationship(back_populates="posts", lazy="raise")

    __table_args__ = (
        Index("ix_posts_forum_approved_created", "forum_id", "approved", "created_at"),
        Index("ix_posts_user_approved_created", "user_id", "approved", "created_at"),
        Index("ix_posts_approved_created", "approved", "created_at"),
    )

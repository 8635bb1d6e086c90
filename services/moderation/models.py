"""Moderation's own tables: each scored post's simhash bands, and every decision taken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base


class PostBand(Base):
    """One of a scored post's eight simhash bands, with the post's time and simhash: a
    near-duplicate lookup is one range scan per band over the recent window, and no join."""

    __tablename__ = "post_bands"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    simhash: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_post_bands_lookup", "band", "value", "created_at"),)


class ModerationDecision(Base):
    """A moderator's decision on a post: approved, rejected or not_spam."""

    __tablename__ = "moderation_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

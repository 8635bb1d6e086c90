"""The dead letters recovery may replay, and its claim on each: a conditional UPDATE, so of any
number of racing runs exactly one replays a letter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from services.delivery.causes import UPSTREAM
from services.delivery.deadletters import DeadLetter, DeadLetterRow, SqlDeadLetterStore, from_row
from services.delivery.deadletters import now as utc_now


class RecoverableLetters(SqlDeadLetterStore):
    """The dead-letter table as recovery sees it."""

    def awaiting_recovery(self, *, since: datetime, after_id: int, limit: int) -> list[DeadLetter]:
        """Upstream failures since `since`, never replayed nor claimed, and not themselves
        replays; oldest first, from after `after_id` on."""
        query = (
            select(DeadLetterRow)
            .where(
                DeadLetterRow.cause == UPSTREAM,
                DeadLetterRow.replayed_at.is_(None),
                DeadLetterRow.auto_replayed_at.is_(None),
                DeadLetterRow.replay_of.is_(None),
                DeadLetterRow.failed_at >= since,
                DeadLetterRow.id > after_id,
            )
            .order_by(DeadLetterRow.id)
            .limit(limit)
        )
        with self._sessions() as session:
            return [from_row(row) for row in session.scalars(query)]

    def claim(self, letter_id: int) -> bool:
        """Take `letter_id` for one automatic replay; False when it was taken or replayed."""
        query = (
            update(DeadLetterRow)
            .where(
                DeadLetterRow.id == letter_id,
                DeadLetterRow.auto_replayed_at.is_(None),
                DeadLetterRow.replayed_at.is_(None),
            )
            .values(auto_replayed_at=utc_now())
        )
        with self._sessions.begin() as session:
            return session.execute(query).rowcount == 1  # type: ignore[attr-defined]

    def release(self, letter_id: int) -> None:
        """Give back a claim whose replay could not be published (the next run tries again)."""
        query = (
            update(DeadLetterRow)
            .where(DeadLetterRow.id == letter_id, DeadLetterRow.replayed_at.is_(None))
            .values(auto_replayed_at=None)
        )
        with self._sessions.begin() as session:
            session.execute(query)

"""Dead letters: every final task failure, kept with its arguments so it can be replayed."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer, Text, case, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from services.db import Base, insert_once, utc

MAX_MESSAGE_CHARS = 2000

log = logging.getLogger(__name__)


class DeadLetterRow(Base):
    """The final failure of one task (a task id is recorded once, however often redelivered)."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(Text, unique=True, index=True)  # callers choose ids
    task_name: Mapped[str] = mapped_column(Text, index=True)
    args_json: Mapped[str] = mapped_column(Text)
    kwargs_json: Mapped[str] = mapped_column(Text)
    queue: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int | None] = mapped_column(Integer)
    error_type: Mapped[str] = mapped_column(Text)
    error_message: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replay_task_id: Mapped[str | None] = mapped_column(Text)
    # upstream, transient or permanent (services/delivery/causes.py); NULL before it was kept.
    cause: Mapped[str | None] = mapped_column(Text, index=True)
    upstreams_json: Mapped[str | None] = mapped_column(Text)  # the providers that failed
    replay_of: Mapped[int | None] = mapped_column(Integer)  # the letter this task replayed
    auto_replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    """A final failure as the rest of the code sees it."""

    task_id: str
    task_name: str
    args: list[Any]
    kwargs: dict[str, Any]
    queue: str | None
    priority: int | None
    error_type: str
    error_message: str
    attempts: int
    failed_at: datetime
    id: int | None = None
    replayed_at: datetime | None = None
    replay_task_id: str | None = None
    cause: str | None = None
    upstreams: tuple[str, ...] = ()
    replay_of: int | None = None
    auto_replayed_at: datetime | None = None  # taken by dead-letter recovery (at most once)

    @functools.cached_property
    def _dumped(self) -> bytes:
        return json.dumps(
            [self.args, self.kwargs], sort_keys=True, separators=(",", ":"), default=str
        ).encode()

    @property
    def arguments_digest(self) -> str:
        """sha256 of the arguments: identifies them in listings without printing them."""
        return hashlib.sha256(self._dumped).hexdigest()

    @property
    def arguments_bytes(self) -> int:
        return len(self._dumped)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> DeadLetter:
        values = json.loads(raw)
        for key in ("failed_at", "replayed_at", "auto_replayed_at"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        values["upstreams"] = tuple(values.get("upstreams") or ())
        return cls(**values)


def now() -> datetime:
    return datetime.now(UTC)


class DeadLetterStore(ABC):
    """Where final failures go; operators list and replay them."""

    @abstractmethod
    def record(self, letter: DeadLetter) -> int | None:
        """Store `letter`; its id, or None when it is held elsewhere until `drain()`."""

    def drain(self) -> int:
        """Move letters held elsewhere into the store; how many moved."""
        return 0

    def unstorable(self) -> int:
        """How many letters the store refused for good (held aside for an operator)."""
        return 0

    @abstractmethod
    def list(
        self, *, limit: int = 50, since: datetime | None = None, waiting: bool = False
    ) -> list[DeadLetter]:
        """Newest first; `since`: failed then or later; `waiting`: never replayed."""

    @abstractmethod
    def summary(self) -> dict[str, Any]:
        """How many letters, how many wait for a replay, and the newest one's time and task."""

    @abstractmethod
    def get(self, letter_id: int) -> DeadLetter | None: ...

    @abstractmethod
    def mark_replayed(self, letter_id: int, *, replay_task_id: str) -> None: ...


class SqlDeadLetterStore(DeadLetterStore):
    """Dead letters in the `dead_letters` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, letter: DeadLetter) -> int:
        """Insert once per task id (a redelivered failure, a drain run twice); the row's id."""
        values = {
            "task_id": letter.task_id,
            "task_name": letter.task_name,
            "args_json": json.dumps(letter.args, default=str),
            "kwargs_json": json.dumps(letter.kwargs, default=str),
            "queue": letter.queue,
            "priority": letter.priority,
            "error_type": letter.error_type,
            "error_message": letter.error_message[:MAX_MESSAGE_CHARS],
            "attempts": letter.attempts,
            "failed_at": letter.failed_at,
            "cause": letter.cause,
            "upstreams_json": json.dumps(list(letter.upstreams)) if letter.upstreams else None,
            "replay_of": letter.replay_of,
        }
        with self._sessions.begin() as session:
            insert_once(session.connection(), DeadLetterRow, values)
            query = select(DeadLetterRow.id).where(DeadLetterRow.task_id == letter.task_id)
            return int(session.scalars(query).one())

    def list(
        self, *, limit: int = 50, since: datetime | None = None, waiting: bool = False
    ) -> list[DeadLetter]:
        query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)
        if since is not None:
            query = query.where(DeadLetterRow.failed_at >= since)
        if waiting:
            query = query.where(DeadLetterRow.replay_task_id.is_(None))
        with self._sessions() as session:
            return [from_row(row) for row in session.scalars(query)]

    def summary(self) -> dict[str, Any]:
        waiting = case((DeadLetterRow.replay_task_id.is_(None), 1), else_=0)
        counts = select(func.count(), func.coalesce(func.sum(waiting), 0))
        newest = select(DeadLetterRow.failed_at, DeadLetterRow.task_name)
        newest = newest.order_by(DeadLetterRow.id.desc()).limit(1)
        with self._sessions() as session:
            total, waiting_n = session.execute(counts.select_from(DeadLetterRow)).one()
            last = session.execute(newest).first()
        return {
            "total": int(total),
            "waiting": int(waiting_n),
            "newest_at": utc(last[0]).isoformat() if last else None,
            "newest_task": last[1] if last else None,
        }

    def get(self, letter_id: int) -> DeadLetter | None:
        with self._sessions() as session:
            row = session.get(DeadLetterRow, letter_id)
            return from_row(row) if row else None

    def mark_replayed(self, letter_id: int, *, replay_task_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(DeadLetterRow, letter_id)
            if row is None:
                raise KeyError(letter_id)
            row.replayed_at = now()
            row.replay_task_id = replay_task_id


def from_row(row: DeadLetterRow) -> DeadLetter:
    """The letter a row holds."""
    return DeadLetter(
        id=row.id,
        task_id=row.task_id,
        task_name=row.task_name,
        args=json.loads(row.args_json),
        kwargs=json.loads(row.kwargs_json),
        queue=row.queue,
        priority=row.priority,
        error_type=row.error_type,
        error_message=row.error_message,
        attempts=row.attempts,
        failed_at=utc(row.failed_at),
        replayed_at=utc(row.replayed_at) if row.replayed_at else None,
        replay_task_id=row.replay_task_id,
        cause=row.cause,
        upstreams=tuple(json.loads(row.upstreams_json or "[]")),
        replay_of=row.replay_of,
        auto_replayed_at=utc(row.auto_replayed_at) if row.auto_replayed_at else None,
    )

"""Identification records (for statistics), stored once per request even when redelivered."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import Boolean, DateTime, Engine, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, insert_many_once
from services.errors import TransientError, classify


class IdentificationRow(Base):
    """One identification answered (from the cache or the providers)."""

    __tablename__ = "identifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    request_id: Mapped[str | None] = mapped_column(String(128))
    image_sha256: Mapped[str] = mapped_column(String(64), index=True)
    top_species: Mapped[str | None] = mapped_column(String(200), index=True)
    is_plant: Mapped[bool] = mapped_column(Boolean)
    plant_id_status: Mapped[str] = mapped_column(String(16))
    plantnet_status: Mapped[str] = mapped_column(String(16))
    cached: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True, kw_only=True)
class IdentificationRecord:
    """What is kept of one identification."""

    idempotency_key: str
    request_id: str | None
    image_sha256: str
    top_species: str | None
    is_plant: bool
    plant_id_status: str
    plantnet_status: str
    cached: bool
    latency_ms: float
    created_at: datetime


class IdentificationRecords(ABC):
    """Where identification records go."""

    @abstractmethod
    def add(self, record: IdentificationRecord) -> bool:
        """Store it; False when a record with the same idempotency key exists already."""


class SqlIdentificationRecords(IdentificationRecords):
    """Records in the `identifications` table (INSERT … ON CONFLICT DO NOTHING), written by group
    commit: a caller that finds no write under way writes every record queued by then in one
    transaction while the others wait for theirs. Each add() returns once its record is
    committed (or raises), as a write of its own would; alone (prefork), it writes at once."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._changed = threading.Condition()
        self._queued: list[_Pending] = []
        self._writing = False

    def add(self, record: IdentificationRecord) -> bool:
        pending, batch = _Pending(record), None
        try:
            with self._changed:
                self._queued.append(pending)
                while not pending.done and self._writing:
                    self._changed.wait()
                if not pending.done:  # nobody is writing: this caller writes what is queued
                    batch, self._queued = self._queued, []
                    self._writing = True
            if batch is not None:
                self._write(batch)
        finally:
            if batch is not None:
                with self._changed:
                    for orphan in batch:  # interrupted (a soft time limit): none waits forever
                        orphan.settle(error=TransientError("its record's write was interrupted"))
                    self._writing = False
                    self._changed.notify_all()
        return pending.outcome()

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with self._engine.begin() as connection:
                inserted = insert_many_once(
                    connection, IdentificationRow, [vars(p.record) for p in batch]
                )
        except SoftTimeLimitExceeded:  # this writer's own task: add() fails the batch transiently
            raise
        except Exception as exc:
            if len(batch) > 1 and not classify(exc).transient:  # a bad record fails alone
                for pending in batch:
                    self._write([pending])
                return
            for pending in batch:  # the database is away: every record retries with its task
                pending.settle(error=exc)
            return
        for pending in batch:  # a key twice in one batch: the first is the one inserted
            key = pending.record.idempotency_key
            pending.settle(inserted=key in inserted)
            inserted.discard(key)


class _Pending:
    """One record waiting for its batch's commit."""

    def __init__(self, record: IdentificationRecord) -> None:
        self.record = record
        self.done = False
        self._inserted = False
        self._error: BaseException | None = None

    def settle(self, *, inserted: bool = False, error: BaseException | None = None) -> None:
        if not self.done:
            self._inserted, self._error, self.done = inserted, error, True

    def outcome(self) -> bool:
        if self._error is not None:
            raise self._error
        return self._inserted

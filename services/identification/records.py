"""Identification records (for statistics), stored once per request even when redelivered."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Engine, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, insert_once


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
    """Records in the `identifications` table (INSERT … ON CONFLICT DO NOTHING)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, record: IdentificationRecord) -> bool:
        # One statement per identification: a connection, not an ORM session, is enough.
        with self._engine.begin() as connection:
            return insert_once(connection, IdentificationRow, record.__dict__)

"""SQLAlchemy engine, declarative base and schema migrations (Alembic)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Insert, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


class Base(DeclarativeBase):
    """Declarative base of every Greenhouse table."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine that survives dropped connections; SQLite gets WAL and a busy timeout."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # UTC sessions: dates grouped in SQL must not follow the server's time zone.
    connect_args = {"options": "-c timezone=UTC"} if url.startswith("postgresql") else {}
    return create_engine(
        url, pool_pre_ping=True, pool_recycle=1800, connect_args=connect_args, **kwargs
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the worker, beat and the CLI read while one of them writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def insert_once(connection: Connection, table: type[Base], values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL or SQLite); False when the row existed."""
    result = connection.execute(_insert_once(connection.dialect.name, table), values)
    return bool(result.rowcount)


def insert_many_once(
    connection: Connection, table: type[Base], rows: list[dict[str, Any]]
) -> set[str]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the key, for many rows in one round trip; the
    idempotency keys of the rows inserted."""
    statement = _insert_returning_key(connection.dialect.name, table)
    return set(connection.execute(statement, rows).scalars())


@functools.cache
def _insert_once(dialect: str, table: type[Base]) -> Insert:
    # Built once and compiled once (statements are cached per dialect and table).
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table.__table__).on_conflict_do_nothing()  # type: ignore[arg-type]


@functools.cache
def _insert_returning_key(dialect: str, table: type[Base]) -> Insert:
    key = table.__table__.c.idempotency_key
    return _insert_once(dialect, table).returning(key)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations up to `revision`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    command.upgrade(config, revision)


def utc(moment: datetime) -> datetime:
    """A datetime read back from the database, as UTC: SQLite hands back naive ones, and
    everything Greenhouse stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

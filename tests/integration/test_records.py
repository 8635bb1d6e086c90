"""Identification records on SQLite and a scratch PostgreSQL: many threads adding at once share
transactions (group commit), each key is stored once, and a record the table refuses fails alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, event

from services import db
from services.identification.records import IdentificationRecord, SqlIdentificationRecords

THREADS, EACH = 16, 30


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    """A migrated database of each kind, with one connection, as a SQLite worker has."""
    engine = db.make_engine(any_database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _record(key: str, *, species: str | None = "Bellis perennis") -> IdentificationRecord:
    return IdentificationRecord(
        idempotency_key=key,
        request_id=None,
        image_sha256="0" * 64,
        top_species=species,
        is_plant=True,
        plant_id_status="ok",
        plantnet_status="ok",
        cached=True,
        latency_ms=1.0,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def _inserts(engine: Engine) -> list[int]:
    """Rows per INSERT statement the engine runs from now on."""
    sizes: list[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(*args: Any) -> None:  # connection, cursor, statement, parameters, context, many
        statement, parameters, executemany = args[2], args[3], args[5]
        if statement.lstrip().upper().startswith("INSERT"):
            sizes.append(len(parameters) if executemany else 1)

    return sizes


def test_threads_adding_at_once_share_inserts_and_each_key_is_stored_once(engine: Engine) -> None:
    records, inserts = SqlIdentificationRecords(engine), _inserts(engine)
    outcomes: list[bool] = []
    start = threading.Barrier(THREADS)

    def add(thread: int) -> None:
        start.wait()
        for n in range(EACH):  # two threads share each key: one of them inserts it
            outcomes.append(records.add(_record(f"k-{thread // 2}-{n}")))

    threads = [threading.Thread(target=add, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT COUNT(*) FROM identifications"))
    assert stored == outcomes.count(True) == THREADS // 2 * EACH
    assert len(outcomes) == THREADS * EACH
    # Waiting threads' records went in together: fewer statements than records.
    assert len(inserts) < THREADS * EACH


def test_a_record_the_table_refuses_fails_alone_and_its_batch_is_stored(engine: Engine) -> None:
    records = SqlIdentificationRecords(engine)
    too_long = "x" * 400  # top_species is VARCHAR(200): PostgreSQL refuses it, SQLite keeps it
    results: dict[str, object] = {}
    start = threading.Barrier(8)

    def add(key: str, species: str) -> None:
        start.wait()
        try:
            results[key] = records.add(_record(key, species=species))
        except Exception as exc:
            results[key] = exc

    threads = [threading.Thread(target=add, args=(f"ok-{n}", "Rosa canina")) for n in range(7)]
    threads.append(threading.Thread(target=add, args=("bad", too_long)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[f"ok-{n}"] is True for n in range(7))
    if engine.dialect.name == "postgresql":
        assert isinstance(results["bad"], sa.exc.DataError)
    assert records.add(_record("ok-0")) is False  # already stored

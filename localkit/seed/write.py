"""Bulk writers for seeded rows: COPY on PostgreSQL (psycopg 3), batched executemany elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, cast

import psycopg
from sqlalchemy import Engine, insert, text

from services.statistics.models import Forum, Post, Topic, User

Progress = Callable[[str, int, int], None]
BATCH_ROWS = 10_000
MODELS = {model.__tablename__: model for model in (Forum, User, Topic, Post)}


def write_table(
    engine: Engine,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    total: int,
    progress: Progress,
) -> None:
    """Write `rows` into `table` in one transaction, reporting after every batch."""
    batches = _batches(rows)
    if _can_copy(engine):
        done = _copy(engine, table, columns, batches, total=total, progress=progress)
    else:
        done = _insert(engine, table, columns, batches, total=total, progress=progress)
    if done == 0:
        progress(table, 0, total)


def finish(engine: Engine, *, last_ids: Mapping[str, int]) -> None:
    """On PostgreSQL, move id sequences past the seeded ids, then vacuum and analyse."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table, last_id in last_ids.items():
            # Seeded rows carry explicit ids, which leave the SERIAL sequence at 1.
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :value, :called)"),
                {"table": table, "value": max(last_id, 1), "called": last_id > 0},
            )
    # VACUUM also sets the visibility map, so counts can use index-only scans straight away.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM (ANALYZE) {', '.join(last_ids)}"))


def _can_copy(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


def _batches(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_ROWS)):
        yield batch


def _copy(
    engine: Engine,
    table: str,
    columns: Sequence[str],
    batches: Iterator[list[tuple[Any, ...]]],
    *,
    total: int,
    progress: Progress,
) -> int:
    done = 0
    raw = engine.raw_connection()
    try:
        driver = cast("psycopg.Connection[Any]", raw.driver_connection)
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor:
            for batch in batches:
                # One COPY per batch: foreign-key checks run at the end of each statement, so
                # progress includes them and the server never queues millions of them.
                with cursor.copy(statement) as copy:
                    for row in batch:
                        copy.write_row(row)
                done += len(batch)
                progress(table, done, total)
        driver.commit()
    finally:
        raw.close()
    return done


def _insert(
    engine: Engine,
    table: str,
    columns: Sequence[str],
    batches: Iterator[list[tuple[Any, ...]]],
    *,
    total: int,
    progress: Progress,
) -> int:
    done = 0
    statement = insert(MODELS[table])
    with engine.begin() as connection:
        for batch in batches:
            connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in batch])
            done += len(batch)
            progress(table, done, total)
    return done

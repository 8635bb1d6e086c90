"""The database probe: one SELECT 1 on a connection of its own that gives up after a timeout."""

from __future__ import annotations

import math
import time
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool


def ping_database(url: str, *, timeout_s: float) -> float:
    """Milliseconds a SELECT 1 took; raises when the database does not answer in time."""
    parsed = make_url(url)
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        # Connecting would create an empty file: a missing one is a database that is not there.
        if path and path != ":memory:" and not Path(path).exists():
            raise FileNotFoundError(f"no SQLite database at {path}")
        connect_args["timeout"] = timeout_s
    elif parsed.get_backend_name() == "postgresql":
        # libpq counts whole seconds (and at least 2).
        connect_args["connect_timeout"] = max(2, math.ceil(timeout_s))
    engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    try:
        started = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return (time.perf_counter() - started) * 1000
    finally:
        engine.dispose()

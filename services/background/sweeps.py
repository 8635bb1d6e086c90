"""Bounded deletes for the retention service: each batch is a constant number of statements
(one DELETE, one Lua call, one SCAN and one UNLINK) over at most `batch_size` rows or keys, and
a sweep stops at `limit`; what is left is found again by the next run."""

from __future__ import annotations

import re
from typing import Any, cast

import redis
from sqlalchemy import ColumnElement, CursorResult, delete, inspect, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from services.db import Base

# KEYS: the sorted set. ARGV: the score bound (exclusive), the most members to remove.
# The members below the bound are the lowest ranks, so removing by rank takes exactly them.
_TRIM_OLDEST = """
local n = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])
n = math.min(n, tonumber(ARGV[2]))
if n > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - 1) end
return n
"""

CACHE_PATTERN = "greenhouse:v[0-9]*"  # JsonCache keys: greenhouse:v<version>:<namespace>:…
_CACHE_VERSION = re.compile(r"^greenhouse:v(\d+):")


def delete_rows(
    sessions: sessionmaker[Session],
    table: type[Base],
    where: ColumnElement[bool],
    *,
    oldest_first: InstrumentedAttribute[Any],
    batch_size: int,
    limit: int,
) -> int:
    """Delete rows matching `where`, oldest first, one short transaction per batch; how many."""
    key = inspect(table).primary_key[0]
    removed = 0
    while removed < limit:
        size = min(batch_size, limit - removed)
        chosen = select(key).where(where).order_by(oldest_first).limit(size)
        # No session to keep in step: skip the ORM's look-up of what it deletes.
        statement = delete(table).where(key.in_(chosen))
        statement = statement.execution_options(synchronize_session=False)
        with sessions.begin() as session:
            count = cast(CursorResult[Any], session.execute(statement)).rowcount
        removed += count
        if count < size:
            break
    return removed


def trim_sorted_set(
    client: redis.Redis, key: str, *, below: float, batch_size: int, limit: int
) -> int:
    """Remove members scored below `below` from the sorted set `key` (none if it is absent)."""
    trim = client.register_script(_TRIM_OLDEST)
    removed = 0
    while removed < limit:
        size = min(batch_size, limit - removed)
        count = int(trim(keys=[key], args=[repr(below), size]))
        removed += count
        if count < size:
            break
    return removed


def drop_old_cache_versions(
    client: redis.Redis, *, current: int, batch_size: int, limit: int
) -> int:
    """UNLINK cache keys whose version is below `current`; a newer version (new code rolling
    out while this one still runs) is left alone."""
    removed, cursor = 0, 0
    while removed < limit:
        cursor, keys = client.scan(cursor, match=CACHE_PATTERN, count=batch_size)
        old = [key for key in keys if _older(key, current)][: limit - removed]
        if old:
            removed += int(client.unlink(*old))
        if cursor == 0:
            break
    return removed


def _older(key: bytes | str, current: int) -> bool:
    text = key.decode(errors="replace") if isinstance(key, bytes) else key
    match = _CACHE_VERSION.match(text)
    return match is not None and int(match.group(1)) < current

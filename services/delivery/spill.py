"""Dead letters that the table cannot take yet: held in Redis, or on this host's disk, until a
drain moves them in. Nothing is dropped.

- The database is unreachable: the letter waits in the Redis list `greenhouse:dead-letters:spill`.
- The database refuses the letter itself (a value it will never accept): it goes to
  `greenhouse:dead-letters:unstorable` for an operator, and never blocks the letters behind it.
- Redis is unreachable too: one JSON line in `<VAR_DIR>/dead-letters.jsonl`, flushed to disk.

Drains may run at once (two `dead-letters list`, a worker starting): each letter is inserted
once (one row per task id) and then removed by its value, never by a blind pop, so none is lost
or doubled.
"""

from __future__ import annotations

import fcntl
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
import sqlalchemy.exc

from services.delivery.deadletters import DeadLetter, DeadLetterStore
from services.errors import classify

SPILL_KEY = "greenhouse:dead-letters:spill"
UNSTORABLE_KEY = "greenhouse:dead-letters:unstorable"

log = logging.getLogger(__name__)


def unreachable(exc: Exception) -> bool:
    """The database cannot be reached now (as opposed to refusing this letter)."""
    return isinstance(exc, sqlalchemy.exc.SQLAlchemyError) and classify(exc).transient


class SpillingDeadLetterStore(DeadLetterStore):
    """`primary`, with the letters it cannot take kept in Redis or in `journal` until drained."""

    def __init__(self, primary: DeadLetterStore, client: redis.Redis, *, journal: Path) -> None:
        self._primary = primary
        self._redis = client
        self._journal = journal

    def record(self, letter: DeadLetter) -> int | None:
        try:
            return self._primary.record(letter)
        except Exception as exc:
            key = SPILL_KEY if unreachable(exc) else UNSTORABLE_KEY
            log.warning(
                "dead-letter table did not take %s[%s] (%s: %s); holding it in %s",
                letter.task_name,
                letter.task_id,
                type(exc).__name__,
                str(exc)[:200],
                key,
            )
            self._hold(key, letter.to_json())
            return None

    def _hold(self, key: str, raw: str) -> None:
        try:
            self._redis.rpush(key, raw)
        except redis.RedisError as exc:
            log.error("Redis unreachable too (%s); holding the letter in %s", exc, self._journal)
            self._append_to_journal(raw)

    def _append_to_journal(self, raw: str) -> None:
        self._journal.parent.mkdir(parents=True, exist_ok=True)
        with self._journal.open("a") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            out.write(raw + "\n")
            out.flush()
            os.fsync(out.fileno())

    def drain(self) -> int:
        """Move held letters into the table; how many. Stops while the table is unreachable;
        with Redis unreachable, moves what this host holds on disk."""
        moved = self._drain_journal()
        try:
            return moved + self._drain_redis()
        except redis.RedisError as exc:
            log.warning("Redis unreachable (%s): letters held there wait for the next drain", exc)
            return moved

    def _drain_redis(self) -> int:
        moved = 0
        while (raw := self._redis.lindex(SPILL_KEY, 0)) is not None:
            try:
                self._primary.record(DeadLetter.from_json(raw))
            except Exception as exc:
                if unreachable(exc):
                    break
                log.error("dead letter refused by the table (%s); set aside", exc)
                self._redis.rpush(UNSTORABLE_KEY, raw)
            else:
                moved += 1
            self._redis.lrem(SPILL_KEY, 1, raw)  # type: ignore[arg-type]  # by value, not a pop
        return moved

    def _drain_journal(self) -> int:
        if not self._journal.exists():
            return 0
        with self._journal.open("r+") as journal:
            fcntl.flock(journal, fcntl.LOCK_EX)  # one drain per host at a time
            lines = [line for line in journal.read().splitlines() if line.strip()]
            moved, left = 0, list[str]()
            for index, raw in enumerate(lines):
                try:
                    self._primary.record(DeadLetter.from_json(raw))
                    moved += 1
                except Exception as exc:
                    if unreachable(exc):
                        left += lines[index:]
                        break
                    try:  # refused for good: set aside for an operator, or kept here
                        self._redis.rpush(UNSTORABLE_KEY, raw)
                    except redis.RedisError:
                        left.append(raw)
            journal.seek(0)
            journal.truncate()
            journal.write("".join(line + "\n" for line in left))
            journal.flush()
            os.fsync(journal.fileno())
        return moved

    def unstorable(self) -> int:
        """How many letters the table refused (they wait in Redis for an operator)."""
        return int(self._redis.llen(UNSTORABLE_KEY))

    def list(
        self, *, limit: int = 50, since: datetime | None = None, waiting: bool = False
    ) -> list[DeadLetter]:
        return self._primary.list(limit=limit, since=since, waiting=waiting)

    def summary(self) -> dict[str, Any]:
        return self._primary.summary()

    def get(self, letter_id: int) -> DeadLetter | None:
        return self._primary.get(letter_id)

    def mark_replayed(self, letter_id: int, *, replay_task_id: str) -> None:
        self._primary.mark_replayed(letter_id, replay_task_id=replay_task_id)

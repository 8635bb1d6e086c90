"""Retention cleanup on a real database (SQLite, and PostgreSQL when reachable) and the real
Redis: in this process through the runner, and once through a real worker (`services.run`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from harness.workers import Workers
from services.background.config import ConfigStore
from services.background.registry import default_config
from services.background.runner import run_service
from services.bootstrap import Container, bootstrap
from services.delivery.deadletters import DeadLetterRow
from services.health import HEALTH_HISTORY_KEY
from services.identification.records import IdentificationRow
from services.settings import Settings
from tasks.app import app

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
CACHE_VERSION = 2
# The default retention (days): records 90, dead letters 30 (replayed: 7 after the replay),
# health history 7. Everything below sits an hour or more either side of its boundary.


KINDS = ("records", "letters", "samples", "keys")


@dataclass
class Seeded:
    """Names on each side of the boundaries (record keys, task ids, members, Redis keys);
    those kept have "kept" in their name."""

    records: set[str]
    letters: set[str]
    samples: set[str]
    keys: set[str]

    def kept(self) -> Seeded:
        return Seeded(*({n for n in getattr(self, kind) if "kept" in n} for kind in KINDS))

    def past(self) -> Seeded:
        return Seeded(*({n for n in getattr(self, kind) if "kept" not in n} for kind in KINDS))

    def count(self) -> int:
        return sum(len(getattr(self, kind)) for kind in KINDS)


@pytest.fixture
def graph(redis_url: str, tmp_path: Path) -> Iterator[Callable[[str], Container]]:
    """This process's real object graph on the test's Redis and a given database; closed after."""
    built: list[Container] = []

    def on(database_url: str) -> Container:
        settings = Settings(
            redis_url=redis_url,
            database_url=database_url,
            cache_version=CACHE_VERSION,
            var_dir=tmp_path,
        )
        built.append(bootstrap(settings))
        return built[-1]

    yield on
    for container in built:
        container.close()


def _seed(sessions: sessionmaker[Session], client: redis.Redis, *, old: int = 1) -> Seeded:
    """Rows, samples and keys past retention (`old` of each kind, plus fixed cases) and kept."""
    now = datetime.now(UTC)
    records = {f"old-{n}": now - 90 * DAY - (n + 1) * HOUR for n in range(old)}
    records |= {"kept-boundary": now - 90 * DAY + HOUR, "kept-new": now}
    letters: dict[str, tuple[datetime, datetime | None]] = {
        f"unreplayed-old-{n}": (now - 30 * DAY - (n + 1) * HOUR, None) for n in range(old)
    }
    letters |= {
        "kept-unreplayed-young": (now - 30 * DAY + HOUR, None),
        "replayed-a-week-ago": (now - 8 * DAY, now - 7 * DAY - HOUR),  # young failure, old replay
        "kept-replayed-lately": (now - 40 * DAY, now - 7 * DAY + HOUR),  # old failure, new replay
    }
    samples = {f"old-{n}": (now - 7 * DAY - (n + 1) * HOUR).timestamp() for n in range(old)}
    samples |= {"kept-boundary": (now - 7 * DAY + HOUR).timestamp(), "kept-new": now.timestamp()}
    keys = {f"greenhouse:v1:identification:old-{n}" for n in range(old)}
    keys |= {
        "greenhouse:v1:stats:overview:fence",
        "greenhouse:v2:identification:kept-current",
        "greenhouse:v3:stats:kept-newer-version",  # new code rolling out: not ours to drop
        "greenhouse:version-kept-not-a-cache-key",
    }
    with sessions.begin() as session:
        session.add_all(_record(key, at) for key, at in records.items())
        session.add_all(_letter(key, *times) for key, times in letters.items())
    client.zadd(HEALTH_HISTORY_KEY, samples)
    client.mset(dict.fromkeys(keys, "{}"))
    return Seeded(set(records), set(letters), set(samples), keys)


def _record(key: str, at: datetime) -> IdentificationRow:
    return IdentificationRow(
        idempotency_key=key,
        image_sha256="0" * 64,
        is_plant=True,
        plant_id_status="ok",
        plantnet_status="ok",
        cached=False,
        latency_ms=1.0,
        created_at=at,
    )


def _letter(task_id: str, failed_at: datetime, replayed_at: datetime | None) -> DeadLetterRow:
    return DeadLetterRow(
        task_id=task_id,
        task_name="identification.identify",
        args_json="[]",
        kwargs_json="{}",
        error_type="TransientError",
        error_message="HTTP 503",
        attempts=6,
        failed_at=failed_at,
        replayed_at=replayed_at,
        replay_task_id="replay" if replayed_at else None,
    )


def _left(sessions: sessionmaker[Session], client: redis.Redis, seeded: Seeded) -> Seeded:
    with sessions() as session:
        records = set(session.scalars(select(IdentificationRow.idempotency_key)))
        letters = set(session.scalars(select(DeadLetterRow.task_id)))
    members = cast(list[bytes], client.zrange(HEALTH_HISTORY_KEY, 0, -1))
    samples = {member.decode() for member in members}
    return Seeded(records, letters, samples, {k for k in seeded.keys if client.exists(k)})


def test_cleanup_removes_exactly_what_is_past_retention(
    graph: Callable[[str], Container], any_database_url: str
) -> None:
    container = graph(any_database_url)
    seeded = _seed(container.sessions, container.redis, old=3)
    report = run_service(container, {"name": "retention"})
    assert (report.ok, report.items) == (True, seeded.past().count())
    assert _left(container.sessions, container.redis, seeded) == seeded.kept()
    again = run_service(container, {"name": "retention"})  # idempotent: nothing more is past
    assert (again.ok, again.items) == (True, 0)
    assert _left(container.sessions, container.redis, seeded) == seeded.kept()


def test_a_bounded_run_removes_at_most_its_limit_and_the_next_run_continues(
    graph: Callable[[str], Container], any_database_url: str
) -> None:
    container = graph(any_database_url)
    seeded = _seed(container.sessions, container.redis, old=7)  # 7 or 8 past of each kind
    limits = {"batch_size": 2, "max_per_run": 5}
    ConfigStore(container.redis).set(default_config("retention"), limits)

    first = run_service(container, {"name": "retention"})
    assert (first.ok, first.items) == (True, 4 * 5)  # the limit, for each of the four kinds
    left = _left(container.sessions, container.redis, seeded).past()
    # Oldest first: what is left past retention is the youngest of it.
    assert left.records == left.samples == {"old-0", "old-1"}
    assert left.letters == {"unreplayed-old-0", "unreplayed-old-1", "replayed-a-week-ago"}
    assert len(left.keys) == len(seeded.past().keys) - 5

    second = run_service(container, {"name": "retention"})
    assert (second.ok, second.items) == (True, seeded.past().count() - 20)
    assert _left(container.sessions, container.redis, seeded) == seeded.kept()


def test_the_cleanup_runs_through_a_real_worker(
    workers: Workers, graph: Callable[[str], Container], database_url: str
) -> None:
    container = graph(database_url)
    seeded = _seed(container.sessions, container.redis, old=2)
    workers.start(queues="maintenance", env={"CACHE_VERSION": str(CACHE_VERSION)})
    run = app.send_task("services.run", kwargs={"name": "retention"}, queue="maintenance")
    report = run.get(timeout=60)
    assert (report["ran"], report["ok"]) == (True, True)
    assert report["items"] == seeded.past().count()
    assert _left(container.sessions, container.redis, seeded) == seeded.kept()


def test_one_kind_failing_does_not_keep_the_others_and_the_run_counts_as_failed(
    graph: Callable[[str], Container], tmp_path: Path
) -> None:
    container = graph(f"sqlite:///{tmp_path / 'not-migrated.db'}")  # no tables: SQL fails
    now = datetime.now(UTC).timestamp()
    container.redis.zadd(HEALTH_HISTORY_KEY, {"old": now - 8 * DAY.total_seconds(), "new": now})
    container.redis.set("greenhouse:v1:stats:overview", "{}")
    report = run_service(container, {"name": "retention"})
    assert not report.ok and "no such table" in (report.error or "")
    assert container.redis.zrange(HEALTH_HISTORY_KEY, 0, -1) == [b"new"]
    assert not container.redis.exists("greenhouse:v1:stats:overview")

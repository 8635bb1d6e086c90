"""Dead letters nobody planned for: unknown task names, a database that is down."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from harness import postgres
from harness.observe import dead_letters, eventually, greenhouse
from harness.proxy import delayed
from harness.servers import start_embedded_redis
from harness.workers import Workers
from services import db
from services.delivery.deadletters import DeadLetter, SqlDeadLetterStore, now
from services.delivery.spill import SPILL_KEY, SpillingDeadLetterStore
from tasks.app import app


def test_a_message_for_an_unknown_task_is_kept_not_dropped(
    workers: Workers, database_url: str
) -> None:
    workers.start(queues="default")
    sent = app.send_task("tests.no_such_task", [1], {"x": 2}, queue="default", priority=3)
    (letter,) = dead_letters(database_url)
    assert (letter.task_id, letter.task_name, letter.error_type) == (
        sent.id,
        "tests.no_such_task",
        "NotRegistered",
    )
    assert (letter.args, letter.kwargs, letter.queue, letter.priority) == (
        [1],
        {"x": 2},
        "default",
        3,
    )


def test_a_failure_while_the_database_is_down_waits_in_redis_until_listed(
    workers: Workers, redis_client: redis.Redis, tmp_path: Path
) -> None:
    schemaless = f"sqlite:///{tmp_path / 'not-migrated.db'}"  # no dead_letters table yet
    workers.start(queues="default", env={"DATABASE_URL": schemaless})
    key = f"valid-{uuid.uuid4().hex}"
    app.send_task("tests.validate", [key, 7], queue="default")
    eventually(lambda: redis_client.llen(SPILL_KEY), what="the letter held in Redis")
    db.upgrade(schemaless)  # the database is back

    listing = greenhouse("dead-letters", "list", database_url=schemaless).stdout
    assert "moved 1 dead letters held in Redis" in listing and "tests.validate" in listing
    assert redis_client.llen(SPILL_KEY) == 0
    (letter,) = dead_letters(schemaless)
    assert (letter.args, letter.error_type) == ([key, 7], "ValidationError")


def _letter(n: int, **overrides: object) -> DeadLetter:
    values: dict = {
        "task_id": f"task-{n}",
        "task_name": "tests.validate",
        "args": [n],
        "kwargs": {},
        "queue": "default",
        "priority": 5,
        "error_type": "ValidationError",
        "error_message": "refused",
        "attempts": 1,
        "failed_at": now(),
    }
    return DeadLetter(**(values | overrides))


def _store(database_url: str, redis_url: str, journal: Path) -> SpillingDeadLetterStore:
    sql = SqlDeadLetterStore(db.session_factory(db.make_engine(database_url)))
    return SpillingDeadLetterStore(sql, redis.Redis.from_url(redis_url), journal=journal)


def _rows(database_url: str) -> list[tuple[str, int]]:
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        query = sa.text("SELECT task_id, COUNT(*) FROM dead_letters GROUP BY task_id")
        rows = [(task_id, int(count)) for task_id, count in connection.execute(query)]
    engine.dispose()
    return sorted(rows)


def test_drains_at_once_over_a_slow_network_move_every_letter_exactly_once(
    database_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    for n in range(10):
        redis_client.rpush(SPILL_KEY, _letter(n).to_json())
    port = redis_client.get_connection_kwargs()["port"]
    db_index = redis_client.get_connection_kwargs()["db"]
    with delayed(port, delay_s=0.003) as slow_port:
        url = f"redis://127.0.0.1:{slow_port}/{db_index}"
        stores = [_store(database_url, url, tmp_path / "journal") for _ in range(4)]
        with ThreadPoolExecutor(4) as pool:
            moved = sum(pool.map(lambda store: store.drain(), stores))
    assert _rows(database_url) == sorted((f"task-{n}", 1) for n in range(10))
    assert redis_client.llen(SPILL_KEY) == 0
    assert moved >= 10  # a letter two drains both inserted counts for each; the table has one


def test_a_failure_recorded_twice_is_one_letter(database_url: str, tmp_path: Path) -> None:
    """A redelivered failure (its worker died before the ack) or a drain run twice."""
    store = SqlDeadLetterStore(db.session_factory(db.make_engine(database_url)))
    first, again = store.record(_letter(1)), store.record(_letter(1, attempts=2))
    assert first == again and _rows(database_url) == [("task-1", 1)]


def test_with_the_database_and_redis_both_down_the_letter_waits_on_disk(tmp_path: Path) -> None:
    schemaless = f"sqlite:///{tmp_path / 'not-migrated.db'}"  # the table is not there yet
    server = start_embedded_redis()
    server.stop()  # and Redis is gone
    journal = tmp_path / "dead-letters.jsonl"
    assert _store(schemaless, server.url, journal).record(_letter(3)) is None
    assert journal.read_text().count("task-3") == 1

    db.upgrade(schemaless)  # the database is back (Redis still down): the drain moves it in
    assert _store(schemaless, server.url, journal).drain() == 1
    assert _rows(schemaless) == [("task-3", 1)] and journal.read_text() == ""


@pytest.mark.skipif(not postgres.reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_a_letter_with_a_long_task_id_is_stored() -> None:
    """Callers choose task ids; PostgreSQL (unlike SQLite) enforces column lengths."""
    with postgres.scratch_database() as url:
        db.upgrade(url)
        store = SqlDeadLetterStore(db.session_factory(db.make_engine(url)))
        store.record(_letter(4, task_id="x" * 300))
        assert _rows(url) == [("x" * 300, 1)]


@pytest.mark.skipif(not postgres.reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_a_letter_the_table_refuses_is_set_aside_and_the_rest_drain(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    with postgres.scratch_database() as url:
        db.upgrade(url)
        poison = _letter(5, task_name="tests.\x00nul")  # PostgreSQL text never holds NUL
        for letter in (_letter(6), poison, _letter(7)):
            redis_client.rpush(SPILL_KEY, letter.to_json())
        store = _store(url, redis_url, tmp_path / "journal")
        assert store.drain() == 2
        assert store.drain() == 0  # nothing stuck at the head
        assert [task_id for task_id, _ in _rows(url)] == ["task-6", "task-7"]
        assert store.unstorable() == 1 and redis_client.llen(SPILL_KEY) == 0
        assert store.record(_letter(8, task_name="x\x00")) is None  # refused: set aside too
        assert store.unstorable() == 2 and redis_client.llen(SPILL_KEY) == 0


def test_a_retry_that_cannot_be_published_leaves_a_whole_letter(
    workers: Workers, database_url: str
) -> None:
    """Celery fails that task in the worker's parent process; the letter still knows where the
    message came from."""
    workers.start(queues="default")
    sent = app.send_task("tests.retry_unpublishable", queue="default", priority=7)
    (letter,) = dead_letters(database_url)
    assert (letter.task_id, letter.queue, letter.priority) == (sent.id, "default", 7)

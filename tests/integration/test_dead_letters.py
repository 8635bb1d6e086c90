"""Dead letters nobody planned for: unknown task names, a database that is down."""

import uuid
from pathlib import Path

import redis

from services import db
from services.delivery.deadletters import SPILL_KEY
from tasks.app import app
from tests.support.observe import dead_letters, eventually, greenhouse
from tests.support.workers import Workers


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
    assert "moved 1 dead letters" in listing and "tests.validate" in listing
    assert redis_client.llen(SPILL_KEY) == 0
    (letter,) = dead_letters(schemaless)
    assert (letter.args, letter.error_type) == ([key, 7], "ValidationError")

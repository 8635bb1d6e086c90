"""statistics.* through a real worker on a seeded SQLite database and real Redis."""

from datetime import UTC, datetime

import pytest

from harness.observe import dead_letters
from harness.workers import Workers
from localkit.seed import seed
from services import db
from tasks.app import app


def _call(name: str, *args: object, **kwargs: object) -> dict:
    return app.send_task(name, args, kwargs, queue="statistics").get(timeout=30)


def test_each_statistics_task_answers_through_a_worker(workers: Workers, database_url: str) -> None:
    seed(
        db.make_engine(database_url),
        users=30,
        forums=5,
        topics=40,
        posts=300,
        seed=1,
        now=datetime.now(UTC),
    )
    workers.start(queues="statistics")
    overview = _call("statistics.forum_overview")
    assert overview["approved_posts"] > 0 and overview["cached"] is False
    assert _call("statistics.forum_overview")["cached"] is True
    detail = _call("statistics.forum_detail", 1)
    assert detail["forum_id"] == 1 and isinstance(detail["trending"], bool)
    assert _call("statistics.forum_detail", forum_id=1)["cached"] is True
    assert _call("statistics.user_summary", user_id=1)["user_id"] == 1
    summary = _call("statistics.identification_summary", days=7)
    assert summary["total"] == 0 and summary["days"] == 7
    dropped = _call("statistics.invalidate", "overview")
    assert dropped["count"] == 2 and all("stats:o" in key for key in dropped["invalidated"])


@pytest.mark.parametrize(
    ("name", "args", "reason"),
    [
        ("statistics.forum_detail", [999], "forum 999 does not exist"),
        ("statistics.user_summary", [999], "user 999 does not exist"),
        ("statistics.forum_detail", ["seven"], "forum_id: must be integer, got string"),
        ("statistics.invalidate", ["forums"], "scope"),
    ],
)
def test_unknown_ids_and_bad_arguments_fail_at_once_as_dead_letters(
    workers: Workers, database_url: str, name: str, args: list, reason: str
) -> None:
    workers.start(queues="statistics")
    with pytest.raises(Exception, match=reason):
        app.send_task(name, args, queue="statistics").get(timeout=30)
    (letter,) = dead_letters(database_url)
    assert (letter.task_name, letter.attempts) == (name, 1)

"""moderation.* through a real worker on a seeded SQLite forum and real Redis: a post scored
and queued, a decision, the periodic service scoring the backlog, unknown ids and bad decisions
failing at once as dead letters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from harness.observe import dead_letters, eventually
from harness.workers import Workers
from localkit.seed import seed
from services import db
from services.moderation.scoring import Rules
from services.moderation.service import ModerationService
from services.moderation.sql import SqlModeration
from services.statistics.models import Post
from tasks.app import app

RULES = Rules(patterns=(r"buy\s+now",), words=("casino",))


def _call(name: str, **kwargs: object) -> dict:
    return app.send_task(name, kwargs=kwargs, queue="statistics").get(timeout=30)


@pytest.fixture
def forum(database_url: str) -> str:
    engine = db.make_engine(database_url)
    seed(engine, users=20, forums=3, topics=10, posts=80, seed=8, now=datetime.now(UTC))
    with engine.begin() as connection:
        spam = "BUY NOW!!! Visit my shop http://a.example http://b.example casino"
        connection.execute(update(Post).where(Post.id == 5).values(content=spam))
    engine.dispose()
    return database_url


def test_a_spam_post_is_scored_queued_and_decided_through_a_worker(
    workers: Workers, forum: str
) -> None:
    workers.start(queues="statistics,maintenance")
    scored = _call("moderation.score_post", post_id=5)
    assert scored["review_status"] == "pending" and scored["score"] >= 0.5
    assert any("casino" in reason for reason in scored["reasons"]) and not scored["cached"]
    assert _call("moderation.score_post", post_id=5)["cached"] is True
    queue = _call("moderation.review_queue", limit=10)
    assert queue["items"][0]["post_id"] == 5 and queue["items"][0]["reasons"]
    decided = _call("moderation.decide", post_id=5, decision="reject")
    assert decided == {"post_id": 5, "decision": "reject", "review_status": "rejected"}
    again = _call("moderation.score_post", post_id=5)  # from the cache, with today's status
    assert (again["cached"], again["review_status"]) == (True, "rejected")
    assert 5 not in [item["post_id"] for item in _call("moderation.review_queue")["items"]]


def test_the_moderation_service_scores_the_backlog(workers: Workers, forum: str) -> None:
    workers.start(queues="statistics,maintenance")
    report = app.send_task("services.run", kwargs={"name": "moderation"}, queue="maintenance")
    outcome = report.get(timeout=60)
    assert (outcome["ran"], outcome["ok"], outcome["items"]) == (True, True, 80)
    overview = _call("statistics.forum_overview")
    assert overview["pending_review"] >= 1  # post 5, and any unapproved seeded post


@pytest.mark.parametrize(
    ("name", "kwargs", "reason"),
    [
        ("moderation.score_post", {"post_id": 999_999}, "post 999999 does not exist"),
        ("moderation.decide", {"post_id": 999_999, "decision": "approve"}, "does not exist"),
        ("moderation.decide", {"post_id": 5, "decision": "ban"}, "decision"),
        ("moderation.review_queue", {"limit": 0}, "limit: 0 is below the minimum 1"),
    ],
)
def test_unknown_ids_and_bad_arguments_fail_at_once_as_dead_letters(
    workers: Workers, forum: str, name: str, kwargs: dict[str, object], reason: str
) -> None:
    workers.start(queues="statistics")
    with pytest.raises(Exception, match=reason):
        app.send_task(name, kwargs=kwargs, queue="statistics").get(timeout=30)
    eventually(lambda: len(dead_letters(forum)) == 1, what="the dead letter")
    (letter,) = dead_letters(forum)
    assert (letter.task_name, letter.attempts) == (name, 1)


def test_moderators_work_the_queue_from_the_command_line(
    forum: str, redis_url: str, tmp_path: Path
) -> None:
    def greenhouse(*args: str) -> subprocess.CompletedProcess[str]:
        env = os.environ | {"REDIS_URL": redis_url, "DATABASE_URL": forum, "COLUMNS": "200"}
        command = [str(Path(sys.executable).with_name("greenhouse")), "moderation", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    engine = db.make_engine(forum)
    store = SqlModeration(db.session_factory(engine))
    ModerationService(store=store, cache=None, rules=lambda: RULES).score_post(5)
    engine.dispose()
    listed = greenhouse("queue", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [item["post_id"] for item in json.loads(listed.stdout)] == [5]
    assert "Review queue" in greenhouse("queue").stdout
    decided = greenhouse("decide", "5", "reject")
    assert decided.returncode == 0 and "post 5: rejected" in decided.stdout
    assert json.loads(greenhouse("queue", "--json").stdout) == []
    unknown = greenhouse("decide", "999999", "approve")
    assert unknown.returncode == 1 and "post 999999 does not exist" in unknown.stderr
    assert greenhouse("decide", "5", "ban").returncode == 2

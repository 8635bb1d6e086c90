"""The operators' commands run as operators run them (the installed `greenhouse`, a subprocess)
against a real worker and real Redis: status, breakers, cache, and the cache kill switch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from harness.observe import dead_letters, eventually
from harness.workers import Workers
from localkit.seed import seed
from services import db
from services.errors import TransientError
from services.resilience.breaker import CircuitBreaker
from tasks.app import app


def greenhouse(*args: str, redis_url: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"REDIS_URL": redis_url, "DATABASE_URL": database_url, "COLUMNS": "200"}
    env.pop("BROKER_URL", None)
    command = [str(Path(sys.executable).with_name("greenhouse")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def as_json(*args: str, redis_url: str, database_url: str) -> Any:
    done = greenhouse(*args, "--json", redis_url=redis_url, database_url=database_url)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_status_shows_every_part_on_one_screen(
    workers: Workers, redis_url: str, database_url: str
) -> None:
    workers.start(queues="statistics", concurrency=2)
    for priority in (9, 9, 0):  # nobody consumes identification here: they wait
        app.send_task(
            "identification.identify", kwargs={}, queue="identification", priority=priority
        )
    with pytest.raises(Exception, match="does not exist"):
        app.send_task("statistics.user_summary", [424242], queue="statistics").get(timeout=30)
    eventually(lambda: len(dead_letters(database_url)) == 1, what="the dead letter")
    found = as_json("status", redis_url=redis_url, database_url=database_url)
    assert found["problems"] == []
    waiting = found["queues"]["queues"]["identification"]
    assert (waiting["total"], waiting["by_priority"]) == (3, {"0": 1, "9": 2})
    (worker,) = found["workers"]
    assert (worker["pool"], worker["concurrency"], worker["queues"]) == (
        "prefork",
        2,
        ["statistics"],
    )
    assert {b["name"]: b["state"] for b in found["breakers"]} == {
        "plant_id": "closed",
        "plantnet": "closed",
    }
    assert "stats-warmer" in {service["name"] for service in found["services"]}
    assert found["dead_letters"]["waiting"] == 1
    assert found["dead_letters"]["newest_task"] == "statistics.user_summary"
    screen = greenhouse("status", redis_url=redis_url, database_url=database_url)
    assert screen.returncode == 0 and "Breakers" in screen.stdout and "9: 2" in screen.stdout


def test_status_names_the_part_it_cannot_read_and_exits_1(redis_url: str, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'missing' / 'no.db'}"
    done = greenhouse("status", "--json", "--timeout", "0.5", **_urls(redis_url, missing))
    assert done.returncode == 1
    (problem,) = json.loads(done.stdout)["problems"]
    assert problem.startswith("dead_letters:") and "check DATABASE_URL" in problem


def test_an_open_breaker_is_closed_by_reset(redis_url: str, database_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    breaker = CircuitBreaker("plant_id", client, fail_max=1, reset_timeout_s=600)
    with pytest.raises(TransientError):
        breaker.call(_upstream_down)
    listed = {b["name"]: b for b in as_json("breakers", "list", **_urls(redis_url, database_url))}
    assert listed["plant_id"]["state"] == "open" and listed["plant_id"]["open_for_s"] >= 0
    done = greenhouse("breakers", "reset", "plant_id", **_urls(redis_url, database_url))
    assert done.returncode == 0, done.stderr
    after = {b["name"]: b for b in as_json("breakers", "list", **_urls(redis_url, database_url))}
    assert after["plant_id"]["state"] == "closed"
    assert after["plant_id"]["generation"] > listed["plant_id"]["generation"]
    assert breaker.call(lambda: "through") == "through"
    unknown = greenhouse("breakers", "reset", "plant-id", **_urls(redis_url, database_url))
    assert unknown.returncode == 2 and "plant_id" in unknown.stderr


def test_cache_invalidate_drops_answers_and_refuses_an_unknown_scope(
    redis_url: str, database_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("greenhouse:v1:identification:abc", "{}")
    client.set("greenhouse:v1:identification:upload:def", "{}")
    client.set("greenhouse:v1:stats:overview", "{}")
    stats = as_json("cache", "stats", **_urls(redis_url, database_url))
    assert stats["keys"] == {"identification answers": 1, "uploads seen": 1, "statistics": 1}
    done = greenhouse("cache", "invalidate", "answers", **_urls(redis_url, database_url))
    assert done.returncode == 0 and "dropped 2" in done.stdout
    assert client.exists("greenhouse:v1:stats:overview")
    wrong = greenhouse("cache", "invalidate", "forums", **_urls(redis_url, database_url))
    assert wrong.returncode == 2 and "forum:<id>" in wrong.stderr


def test_with_the_cache_switched_off_statistics_come_straight_from_the_database(
    workers: Workers, redis_url: str, database_url: str
) -> None:
    engine = db.make_engine(database_url)
    seed(engine, users=5, forums=2, topics=4, posts=20, seed=3, now=datetime.now(UTC))
    workers.start(queues="statistics", env={"CACHE_ENABLED": "false"})
    for _ in range(2):
        answer = app.send_task("statistics.forum_overview", queue="statistics").get(timeout=30)
        assert answer["cached"] is False
    assert not list(redis.Redis.from_url(redis_url).scan_iter(match="greenhouse:v*:stats:*"))


def _upstream_down() -> None:
    raise TransientError("HTTP 503 from the provider")


def _urls(redis_url: str, database_url: str) -> dict[str, str]:
    return {"redis_url": redis_url, "database_url": database_url}


def test_replay_all_sends_every_waiting_letter_since_a_time_once(
    workers: Workers, redis_url: str, database_url: str
) -> None:
    workers.start(queues="statistics")
    for user_id in (901, 902, 903):
        with pytest.raises(Exception, match="does not exist"):
            app.send_task("statistics.user_summary", [user_id], queue="statistics").get(timeout=30)
    # A failure's result is stored before its letter: wait for the three letters.
    eventually(lambda: len(dead_letters(database_url)) == 3, what="three dead letters")
    workers.stop_all()  # the replays wait in the queue, where they can be counted
    urls = _urls(redis_url, database_url)
    later = greenhouse("dead-letters", "replay", "--all", "--since", "2999-01-01", **urls)
    assert later.returncode == 0 and "replayed 0 of 0" in later.stdout
    done = greenhouse("dead-letters", "replay", "--all", "--since", "2020-01-01", **urls)
    assert done.returncode == 0 and "replayed 3 of 3" in done.stdout, done.stdout + done.stderr
    again = greenhouse("dead-letters", "replay", "--all", **urls)
    assert "replayed 0 of 0" in again.stdout
    waiting = as_json("status", **urls)["queues"]["queues"]["statistics"]["total"]
    assert waiting == 3
    assert greenhouse("dead-letters", "replay", **urls).returncode == 2  # an id or --all

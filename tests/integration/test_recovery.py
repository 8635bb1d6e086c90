"""Dead-letter recovery through a real worker (`services.run name=dead-letter-recovery`), the
session's Redis (breakers, broker), a real SQLite file and the sandbox over HTTP: the dead letters
come from real provider failures, the breakers are the real shared ones."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import redis
from celery.result import AsyncResult

from harness.observe import breaker_trial_due, dead_letters, eventually
from harness.sandbox import Sandbox
from harness.workers import Workers
from localkit.samples import sample_png
from services.delivery.deadletters import DeadLetter
from tasks.app import app

QUEUES = "identification,maintenance"
RESET_S = 2.0


def _identify(seed: int) -> AsyncResult:
    images = [base64.b64encode(sample_png(seed)).decode()]
    payload = {"images": images, "request_id": f"recovery-{seed}"}
    return app.send_task("identification.identify", kwargs=payload, queue="identification")


def _recover() -> dict[str, Any]:
    """One run of the service, through the worker; its run report."""
    result = app.send_task(
        "services.run", kwargs={"name": "dead-letter-recovery"}, queue="maintenance"
    )
    report: dict[str, Any] = result.get(timeout=30)
    assert report["ran"] and report["ok"], report
    return report


def _state(client: redis.Redis, provider: str) -> str:
    """The breaker's shared state (a breaker that never moved has none yet: closed)."""
    return str(client.hget(f"greenhouse:breaker:{provider}", "state") or "closed")


def _by_task(database_url: str, count: int) -> dict[str, DeadLetter]:
    return {letter.task_id: letter for letter in dead_letters(database_url, count=count)}


def test_a_letter_is_replayed_once_after_the_breaker_closes_and_never_while_it_is_open(
    workers: Workers, sandbox: Sandbox, redis_client: redis.Redis, database_url: str
) -> None:
    """Both providers fail; Plant.id's breaker opens (fail_max 2), PlantNet's stays closed."""
    sandbox.configure(plant_id={"error_rate": 1.0}, plantnet={"error_rate": 1.0})
    breakers = {"PLANT_ID_BREAKER_FAIL_MAX": "2", "PLANT_ID_BREAKER_RESET_S": str(RESET_S)}
    breakers["PLANTNET_BREAKER_FAIL_MAX"] = "10"
    workers.start(queues=QUEUES, env=sandbox.env(RETRY_MAX_RETRIES="1", **breakers))
    failed = _identify(1)
    with pytest.raises(Exception, match="no provider answered"):
        failed.get(timeout=30)  # two attempts, 500s from both
    (letter,) = dead_letters(database_url)
    assert (letter.cause, letter.upstreams) == ("upstream", ("plant_id", "plantnet"))
    assert (_state(redis_client, "plant_id"), _state(redis_client, "plantnet")) == (
        "open",
        "closed",
    )

    sandbox.configure(plant_id={"error_rate": 0.0}, plantnet={"error_rate": 0.0})
    # Past the reset timeout the breaker stays open until a call's trial closes it.
    eventually(lambda: breaker_trial_due(redis_client, "plant_id", reset_timeout_s=RESET_S))
    assert _recover()["items"] == 0
    (waiting,) = dead_letters(database_url)
    assert waiting.auto_replayed_at is None and waiting.replay_task_id is None
    assert sandbox.calls() == {"plant_id": 2, "plantnet": 2}  # nothing was sent

    trial = _identify(2).get(timeout=30)
    assert trial["sources"]["plant_id"]["status"] == "ok"
    assert _state(redis_client, "plant_id") == "closed"
    assert _recover()["items"] == 1
    (replayed,) = dead_letters(database_url)
    assert replayed.auto_replayed_at and replayed.replayed_at and replayed.replay_task_id
    assert replayed.replay_task_id != failed.id
    answer = app.AsyncResult(replayed.replay_task_id).get(timeout=30)
    assert answer["request_id"] == "recovery-1"
    assert {source["status"] for source in answer["sources"].values()} == {"ok"}

    assert _recover()["items"] == 0  # once only
    (after,) = dead_letters(database_url)
    assert after.replay_task_id == replayed.replay_task_id
    assert sandbox.calls() == {"plant_id": 4, "plantnet": 4}  # the trial and the one replay


def test_a_replay_that_fails_again_is_left_to_an_operator(
    workers: Workers, sandbox: Sandbox, database_url: str
) -> None:
    """Breakers that stay closed (a high fail_max): the replay goes at the next run, fails for the
    same reason, and its own letter names the letter it replayed and is never replayed."""
    sandbox.configure(plant_id={"error_rate": 1.0}, plantnet={"error_rate": 1.0})
    env = {"PLANT_ID_BREAKER_FAIL_MAX": "10", "PLANTNET_BREAKER_FAIL_MAX": "10"}
    workers.start(queues=QUEUES, env=sandbox.env(RETRY_MAX_RETRIES="0", **env))
    with pytest.raises(Exception, match="no provider answered"):
        _identify(3).get(timeout=30)
    (first,) = dead_letters(database_url)
    assert first.cause == "upstream" and first.replay_of is None

    assert _recover()["items"] == 1
    letters = _by_task(database_url, count=2)
    replayed = letters[first.task_id]
    assert replayed.replay_task_id in letters
    again = letters[replayed.replay_task_id or ""]
    assert (again.cause, again.replay_of) == ("upstream", first.id)

    assert _recover()["items"] == 0
    left = _by_task(database_url, count=2)[again.task_id]
    assert left.auto_replayed_at is None and left.replay_task_id is None
    assert sandbox.calls() == {"plant_id": 2, "plantnet": 2}

"""identification.identify through real workers, real Redis and the sandbox over HTTP."""

import base64
from typing import Any

import pytest
import redis
from celery.result import AsyncResult
from greenhouse_client import Greenhouse

from harness.observe import breaker_trial_due, countdowns, dead_letters, eventually
from harness.sandbox import Sandbox
from harness.workers import Workers
from localkit.samples import sample_jpeg, sample_png
from tasks.app import app

QUEUE = "identification"


def _payload(seed: int, **extra: Any) -> dict[str, Any]:
    return {"images": [base64.b64encode(sample_png(seed)).decode()], **extra}


def _identify(payload: dict[str, Any], **options: Any) -> AsyncResult:
    return app.send_task("identification.identify", kwargs=payload, queue=QUEUE, **options)


def test_both_providers_are_merged_and_a_repeat_is_served_from_the_cache(
    workers: Workers, sandbox: Sandbox
) -> None:
    workers.start(queues=QUEUE, env=sandbox.env())
    first = _identify(_payload(1, organs=["leaf"])).get(timeout=30)
    assert first["is_plant"] and not first["cached"]
    assert {s["status"] for s in first["sources"].values()} == {"ok"}
    top = first["suggestions"][0]
    assert top["providers"] == ["plant_id", "plantnet"] and top["agreed"]
    assert top["family"] and top["genus"] and top["gbif_id"]
    probabilities = [s["probability"] for s in first["suggestions"]]
    assert probabilities == sorted(probabilities, reverse=True)

    second = _identify(_payload(1, organs=["leaf"])).get(timeout=30)
    assert second["cached"] and second["suggestions"] == first["suggestions"]
    assert sandbox.calls() == {"plant_id": 1, "plantnet": 1}


def test_other_apps_identify_through_the_client_on_redis_and_on_rabbitmq(
    workers: Workers, sandbox: Sandbox, broker_env: dict[str, str], redis_url: str
) -> None:
    workers.start(queues=QUEUE, env=sandbox.env(**broker_env))
    broker_url = broker_env.get("BROKER_URL", redis_url)
    with Greenhouse(broker_url, result_backend=redis_url, timeout_s=30) as greenhouse:
        photo = sample_png(31)
        first = greenhouse.identify(images=[photo], organs=["leaf"], priority=9).get()
        again = greenhouse.identify(images=[photo], organs=["leaf"], priority=0).get()
    assert first.is_plant and not first.cached and again.cached
    assert {source.status for source in first.sources.values()} == {"ok"}
    assert again.suggestions == first.suggestions
    assert sandbox.calls() == {"plant_id": 1, "plantnet": 1}


def test_the_providers_are_called_at_once_not_one_after_the_other(
    workers: Workers, sandbox: Sandbox
) -> None:
    # Each provider takes 1.8 s and both share a 3 s deadline: only parallel calls both make it.
    sandbox.configure(plant_id={"latency_ms": 1800}, plantnet={"latency_ms": 1800})
    env = sandbox.env(PROVIDER_READ_TIMEOUT_S="5", PROVIDER_DEADLINE_S="3")
    workers.start(queues=QUEUE, env=env)
    result = _identify(_payload(2)).get(timeout=30)
    assert {name: s["status"] for name, s in result["sources"].items()} == {
        "plant_id": "ok",
        "plantnet": "ok",
    }


def test_one_failing_provider_gives_a_partial_result(workers: Workers, sandbox: Sandbox) -> None:
    sandbox.configure(plantnet={"error_rate": 1.0})
    workers.start(queues=QUEUE, env=sandbox.env())
    result = _identify(_payload(3)).get(timeout=30)
    assert result["sources"]["plant_id"]["status"] == "ok"
    assert result["sources"]["plantnet"]["status"] == "failed"
    assert "HTTP 500" in result["sources"]["plantnet"]["reason"]
    assert all(s["providers"] == ["plant_id"] for s in result["suggestions"])


def test_both_failing_retries_then_dead_letters(
    workers: Workers, sandbox: Sandbox, database_url: str
) -> None:
    sandbox.configure(plant_id={"error_rate": 1.0}, plantnet={"error_rate": 1.0})
    workers.start(queues=QUEUE, env=sandbox.env(RETRY_MAX_RETRIES="1"))
    with pytest.raises(Exception, match="no provider answered"):
        _identify(_payload(4)).get(timeout=30)
    assert sandbox.calls() == {"plant_id": 2, "plantnet": 2}
    (letter,) = dead_letters(database_url)
    assert (letter.task_name, letter.attempts, letter.error_type) == (
        "identification.identify",
        2,
        "TransientError",
    )


def test_an_open_breaker_skips_its_provider_without_calling_it_then_recovers(
    workers: Workers, sandbox: Sandbox, redis_client: redis.Redis
) -> None:
    sandbox.configure(plant_id={"error_rate": 1.0})
    env = sandbox.env(PLANT_ID_BREAKER_FAIL_MAX="3", PLANT_ID_BREAKER_RESET_S="3")
    workers.start(queues=QUEUE, env=env)
    for seed in range(10, 13):
        assert (
            _identify(_payload(seed)).get(timeout=30)["sources"]["plant_id"]["status"] == "failed"
        )
    skipped = _identify(_payload(13)).get(timeout=30)
    assert skipped["sources"]["plant_id"]["status"] == "skipped"
    assert "open" in skipped["sources"]["plant_id"]["reason"]
    assert sandbox.calls()["plant_id"] == 3

    sandbox.configure(plant_id={"error_rate": 0.0})
    eventually(  # the next call is the half-open trial
        lambda: breaker_trial_due(redis_client, "plant_id", reset_timeout_s=3),
        what="plant_id's reset timeout",
    )
    assert _identify(_payload(14)).get(timeout=30)["sources"]["plant_id"]["status"] == "ok"
    assert _identify(_payload(15)).get(timeout=30)["sources"]["plant_id"]["status"] == "ok"
    assert sandbox.calls()["plant_id"] == 5


def test_a_breaker_opened_in_one_worker_is_open_in_the_other(
    workers: Workers, sandbox: Sandbox
) -> None:
    sandbox.configure(plant_id={"error_rate": 1.0})
    env = sandbox.env(PLANT_ID_BREAKER_FAIL_MAX="3")
    first, second = workers.start(queues=QUEUE, env=env), workers.start(queues=QUEUE, env=env)
    for seed in range(20, 23):
        _identify(_payload(seed)).get(timeout=30)
    results = [_identify(_payload(seed)) for seed in range(23, 35)]
    statuses = {r.get(timeout=30)["sources"]["plant_id"]["status"] for r in results}
    assert statuses == {"skipped"}
    assert sandbox.calls()["plant_id"] == 3
    ran_in = [w for w in (first, second) if any(r.id in w.log() for r in results)]
    assert len(ran_in) == 2  # both processes saw the breaker open


def test_fifty_identical_requests_across_two_workers_call_each_provider_once(
    workers: Workers, sandbox: Sandbox
) -> None:
    sandbox.configure(plant_id={"latency_ms": 800}, plantnet={"latency_ms": 800})
    workers.start(queues=QUEUE, concurrency=8, env=sandbox.env())
    workers.start(queues=QUEUE, concurrency=8, env=sandbox.env())
    results = [_identify(_payload(40)) for _ in range(50)]
    answers = [r.get(timeout=60) for r in results]
    assert sandbox.calls() == {"plant_id": 1, "plantnet": 1}
    assert len({a["image_sha256"] for a in answers}) == 1
    assert sum(not a["cached"] for a in answers) == 1


def test_a_429_is_retried_no_sooner_than_retry_after(workers: Workers, sandbox: Sandbox) -> None:
    sandbox.configure(
        plant_id={"rate_limit_retry_after_s": 3}, plantnet={"rate_limit_retry_after_s": 3}
    )
    env = sandbox.env(RETRY_BASE_DELAY_S="0.1", RETRY_MAX_DELAY_S="10")
    worker = workers.start(queues=QUEUE, env=env)
    result = _identify(_payload(50))
    eventually(lambda: sandbox.calls()["plantnet"] >= 1, what="the first, rate-limited attempt")
    sandbox.configure(
        plant_id={"rate_limit_retry_after_s": None}, plantnet={"rate_limit_retry_after_s": None}
    )
    assert result.get(timeout=30)["sources"]["plant_id"]["status"] == "ok"
    # Without Retry-After the backoff would have been at most 0.1 s.
    (countdown,) = countdowns(worker.log(), result.id)
    assert countdown >= 3


def test_a_redelivered_request_id_is_recorded_once(
    workers: Workers, sandbox: Sandbox, database_url: str
) -> None:
    from sqlalchemy import func, select

    from services.db import make_engine, session_factory
    from services.identification.records import IdentificationRow

    workers.start(queues=QUEUE, env=sandbox.env())
    for _ in range(3):
        _identify(_payload(60, request_id="order-17")).get(timeout=30)
    _identify(_payload(60)).get(timeout=30)
    with session_factory(make_engine(database_url))() as session:
        rows = session.execute(
            select(IdentificationRow.request_id, func.count()).group_by(
                IdentificationRow.request_id
            )
        ).all()
    assert sorted(rows, key=str) == sorted([("order-17", 1), (None, 1)], key=str)


def _jpeg(seed: int) -> str:
    return base64.b64encode(sample_jpeg(seed)).decode()


INVALID = [
    ({"images": ["***not base64***"]}, "images[0]: not valid base64"),
    ({"images": [base64.b64encode(b"GIF89a-not-accepted").decode()]}, "not a JPEG or PNG"),
    ({"images": [base64.b64encode(b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024)).decode()]}, "10 MB"),
    ({"images": [_jpeg(i) for i in range(6)]}, "images: 6 given, at most 5"),
    ({"images": [_jpeg(1)], "organs": ["leaf", "bark"]}, "organs: 2 given for 1 images"),
    ({"images": [_jpeg(1)], "organs": ["stem"]}, "organs[0]: 'stem' is not one of auto, leaf"),
    (
        {"images": [_jpeg(1)], "latitude": 123, "longitude": 0},
        "latitude: 123 is above the maximum 90",
    ),
    ({"images": [_jpeg(1)], "longitude": "east"}, "longitude: must be number or null, got string"),
    ({"images": "not-a-list"}, "images: must be array, got string"),
]


def test_each_invalid_payload_fails_at_once_naming_the_problem(
    workers: Workers, sandbox: Sandbox, database_url: str
) -> None:
    workers.start(queues=QUEUE, env=sandbox.env())
    sent = [(_identify(payload), expected) for payload, expected in INVALID]
    for result, expected in sent:
        with pytest.raises(Exception) as raised:
            result.get(timeout=30)
        assert expected in str(raised.value), (expected, raised.value)
    letters = dead_letters(database_url, count=len(INVALID))
    assert len(letters) == len(INVALID)
    assert {(letter.error_type, letter.attempts) for letter in letters} == {("ValidationError", 1)}
    assert sandbox.calls() == {"plant_id": 0, "plantnet": 0}


def test_api_keys_appear_in_no_log_result_or_event(workers: Workers, sandbox: Sandbox) -> None:
    keys = {"PLANT_ID_API_KEY": "pid-secret-4711", "PLANTNET_API_KEY": "pnet-secret-0815"}
    worker = workers.start(queues=QUEUE, env=sandbox.env(**keys))
    sandbox.configure(plantnet={"error_rate": 1.0})  # failures get logged too
    result = _identify(_payload(70)).get(timeout=30)
    text = worker.log() + repr(result)
    assert all(secret not in text for secret in keys.values())

"""The quota and breaker reporter on the real Redis, fed by real identifications: a worker asks
the sandbox (over HTTP), notes PlantNet's remaining count, and `services.run` reports it."""

from __future__ import annotations

import base64
import json
from typing import Any

import redis

from harness.observe import eventually
from harness.sandbox import Sandbox
from harness.workers import Workers
from localkit.samples import sample_png
from services.background.config import ConfigStore
from services.background.registry import default_config
from services.background.reporter import REPORT_KEY
from tasks.app import app

WARNING = "plantnet quota running out: 499 requests left (warning below 500)"


def _identify(photo: int) -> dict[str, Any]:
    payload = {"images": [base64.b64encode(sample_png(photo)).decode()]}
    sent = app.send_task("identification.identify", kwargs=payload, queue="identification")
    return sent.get(timeout=30)


def _report(client: redis.Redis) -> dict[str, Any]:
    """Run the reporter through the worker; the providers' part of the report it wrote."""
    sent = app.send_task("services.run", kwargs={"name": "quota-reporter"}, queue="maintenance")
    run = sent.get(timeout=30)
    assert (run["ok"], run["items"]) == (True, 2)  # both providers reported
    return json.loads(client.get(REPORT_KEY) or "{}")["providers"]


def test_the_quota_seen_by_a_real_identification_is_reported_and_a_low_one_warns(
    workers: Workers, sandbox: Sandbox, redis_client: redis.Redis
) -> None:
    env = sandbox.env(PLANTNET_BREAKER_FAIL_MAX="1", PLANTNET_BREAKER_RESET_S="120")
    worker = workers.start(queues="identification,maintenance", env=env)
    assert _identify(1)["sources"]["plantnet"]["status"] == "ok"  # the sandbox's first: 499 left

    providers = _report(redis_client)
    assert providers["plantnet"] | {"seen_at": None} == {
        "breaker": "closed",
        "remaining": 499,
        "seen_at": None,
        "stale": False,
        "low": False,
    }
    assert providers["plant_id"]["remaining"] is None  # Plant.id's answers carry no count
    assert "quota running out" not in worker.log()

    ConfigStore(redis_client).set(default_config("quota-reporter"), {"warn_below": 500})
    assert _report(redis_client)["plantnet"]["low"]
    eventually(lambda: WARNING in worker.log(), timeout_s=10, what="the low-quota warning")


def test_an_open_breaker_is_reported_with_the_last_count_seen_before_it_opened(
    workers: Workers, sandbox: Sandbox, redis_client: redis.Redis
) -> None:
    env = sandbox.env(PLANTNET_BREAKER_FAIL_MAX="1", PLANTNET_BREAKER_RESET_S="120")
    workers.start(queues="identification,maintenance", env=env)
    _identify(2)
    sandbox.configure(plantnet={"error_rate": 1.0})
    assert _identify(3)["sources"]["plantnet"]["status"] == "failed"  # opens the breaker

    providers = _report(redis_client)
    assert (providers["plantnet"]["breaker"], providers["plantnet"]["remaining"]) == ("open", 499)
    assert providers["plant_id"]["breaker"] == "closed"

"""A real prefork worker's /metrics, scraped over HTTP as Prometheus scrapes it: its pool
children's counts added up, breakers and queue depths read from Redis, basic auth enforced."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.observe import eventually
from harness.sandbox import Sandbox
from harness.servers import free_port
from harness.workers import Workers
from localkit.samples import sample_png
from tasks.app import app

AUTH = ("scraper", "s3cret-scrape")


def scrape(port: int, *, auth: tuple[str, str] | None = AUTH) -> dict[tuple[str, Any], float]:
    """(sample name, sorted labels) → value."""
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", auth=auth, timeout=10)
    response.raise_for_status()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, Any], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def _identify(seed: int) -> Any:
    payload = {"images": [base64.b64encode(sample_png(seed)).decode()]}
    return app.send_task("identification.identify", kwargs=payload, queue="identification")


def test_a_prefork_worker_exports_what_its_children_counted(
    workers: Workers, sandbox: Sandbox
) -> None:
    port = free_port()
    sandbox.configure(plant_id={"latency_ms": 400}, plantnet={"latency_ms": 400})
    env = sandbox.env(METRICS_PORT=str(port), METRICS_BASIC_AUTH=":".join(AUTH))
    queues = "identification,statistics,maintenance"  # nobody reads `default`
    workers.start(queues=queues, concurrency=2, env=env | {"PLANT_ID_BREAKER_FAIL_MAX": "1"})
    same = [_identify(1), _identify(1)]  # one asks the providers, the other waits for its answer
    assert [result.get(timeout=30)["cached"] for result in same].count(True) == 1
    for _ in range(2):
        app.send_task("statistics.identification_summary", queue="statistics").get(timeout=30)
    with pytest.raises(Exception, match="does not exist"):
        app.send_task("statistics.user_summary", [999], queue="statistics").get(timeout=30)
    app.send_task("services.run", kwargs={"name": "retention"}, queue="maintenance").get(timeout=30)
    sandbox.configure(plant_id={"error_rate": 1.0})
    assert _identify(2).get(timeout=30)["sources"]["plant_id"]["status"] == "failed"
    app.send_task("statistics.forum_overview", queue="default", priority=9)  # nobody reads it

    scrapes: list[dict[tuple[str, Any], float]] = []
    eventually(lambda: _counted(scrapes, scrape(port)), timeout_s=15, what="the last run counted")
    found = scrapes[-1]
    task = "greenhouse_task_duration_seconds_count"
    assert value(found, task, task="identification.identify", outcome="success") == 3
    assert value(found, task, task="statistics.identification_summary", outcome="success") == 2
    assert value(found, task, task="statistics.user_summary", outcome="failure") == 1
    assert value(found, "greenhouse_dead_letters_total", task="statistics.user_summary") == 1
    cache = "greenhouse_cache_requests_total"
    assert value(found, cache, cache="statistics", outcome="hit") == 1
    assert value(found, cache, cache="statistics", outcome="miss") >= 1
    assert value(found, cache, cache="identification", outcome="hit") == 1
    assert value(found, "greenhouse_lock_wait_seconds_count") >= 1
    assert value(found, "greenhouse_service_runs_total", service="retention", outcome="ok") == 1
    transitions = "greenhouse_breaker_transitions_total"
    assert value(found, transitions, provider="plant_id", to="open") == 1
    assert value(found, "greenhouse_breaker_state", provider="plant_id") == 2  # open
    assert value(found, "greenhouse_breaker_state", provider="plantnet") == 0
    assert value(found, "greenhouse_queue_depth", queue="default", priority="9") == 1


def _counted(
    scrapes: list[dict[tuple[str, Any], float]], found: dict[tuple[str, Any], float]
) -> bool:
    # A task's duration is counted after its result is stored: scrape until the last one is in.
    scrapes.append(found)
    task = "greenhouse_task_duration_seconds_count"
    return value(found, task, task="identification.identify", outcome="success") == 3


def test_metrics_need_their_credentials_and_never_listen_open_off_loopback(
    workers: Workers,
) -> None:
    port = free_port()
    workers.start(env={"METRICS_PORT": str(port), "METRICS_BASIC_AUTH": ":".join(AUTH)})
    anonymous = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert anonymous.status_code == 401 and "WWW-Authenticate" in anonymous.headers
    assert (
        httpx.get(f"http://127.0.0.1:{port}/metrics", auth=("scraper", "wrong")).status_code == 401
    )
    assert (
        "greenhouse_breaker_state"
        in httpx.get(f"http://127.0.0.1:{port}/metrics", auth=AUTH, timeout=10).text
    )
    with pytest.raises(RuntimeError, match="METRICS_BASIC_AUTH"):
        workers.start(env={"METRICS_PORT": str(free_port()), "METRICS_ADDRESS": "0.0.0.0"})

"""`services.run` through real worker processes on real Redis: the lifecycle (backoff, budget,
pause, stop, resume), live options, and never two runs of one service at once. The probe
service (harness/probe_service.py) does what its live options say."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from harness import probe_service
from harness.observe import eventually, greenhouse
from harness.workers import Workers
from services.background import registry
from services.background.config import ConfigStore
from services.background.state import ServiceStore
from tasks.app import app


@pytest.fixture
def probe(redis_client: redis.Redis) -> Iterator[ConfigStore]:
    """The probe registered in this process too (the worker app registers it there)."""
    registry.register("probe", "harness.probe_service:build", probe_service.DECLARED)
    yield ConfigStore(redis_client)


def _set(store: ConfigStore, **values: Any) -> None:
    store.set(registry.default_config("probe"), values)


def _run() -> dict[str, Any]:
    report: dict[str, Any] = app.send_task("services.run", kwargs={"name": "probe"}).get(timeout=30)
    return report


def test_failures_back_off_with_growing_delays_pause_at_the_budget_and_resume_by_command(
    workers: Workers, redis_client: redis.Redis, probe: ConfigStore
) -> None:
    workers.start(queues="maintenance")
    _set(probe, mode="transient", retry_delay_s=0.5, max_failures=3)
    store = ServiceStore(redis_client)
    reports, delays = [_run()], []
    for _ in range(3):
        assert reports[-1]["error"] == "TransientError: upstream answered 503", reports[-1]
        status = store.status("probe")
        delays.append(status.not_before - store.metrics("probe").last_run_at)  # type: ignore[operator]
        if status.paused:
            break
        assert _run()["skipped"].startswith("retrying in")  # within the delay: not run
        eventually(lambda: reports.append(_run()) or reports[-1]["ran"], what="the retry")
    # The third failure in a row was the budget: paused for the cool-down (an hour).
    assert [round(d, 1) for d in delays[:2]] == [0.5, 1.0]  # the delay doubles
    assert _run()["skipped"].startswith("paused for")
    assert store.status("probe").failures == 3

    _set(probe, mode="ok")
    store.resume("probe")  # what `greenhouse services resume` does (see the CLI test below)
    report = _run()
    assert (report["ran"], report["ok"], report["items"]) == (True, True, 1)
    assert store.status("probe").failures == 0


def test_a_stopped_service_stays_stopped_past_its_cool_down_until_resumed(
    workers: Workers, redis_client: redis.Redis, probe: ConfigStore
) -> None:
    workers.start(queues="maintenance")
    _set(probe, mode="permanent", cooldown_s=0.1)
    assert _run()["error"] == "PermanentError: API key rejected"
    _set(probe, mode="ok")
    for _ in range(3):  # a cool-down of 0.1 s is long over by now: still stopped
        report = _run()
        assert report["skipped"] == "paused until resumed: PermanentError: API key rejected"
    ServiceStore(redis_client).resume("probe")
    assert _run()["ok"]


def test_a_disabled_service_says_so_and_runs_nothing(
    workers: Workers, redis_client: redis.Redis, probe: ConfigStore
) -> None:
    workers.start(queues="maintenance")
    _set(probe, enabled=False)
    report = _run()
    assert (report["ran"], report["skipped"]) == (False, "disabled by configuration")
    assert redis_client.llen(probe_service.RUNS_KEY) == 0


def test_two_runs_of_one_service_never_overlap(
    workers: Workers, redis_client: redis.Redis, probe: ConfigStore
) -> None:
    for _ in range(2):
        workers.start(queues="maintenance", concurrency=3)
    _set(probe, hold_s=1.0)
    sent = [app.send_task("services.run", kwargs={"name": "probe"}) for _ in range(12)]
    reports = [result.get(timeout=60) for result in sent]
    ran = [r for r in reports if r["ran"]]
    skipped = {r["skipped"] for r in reports if not r["ran"]}
    assert ran and skipped == {"already running elsewhere"}
    log = [json.loads(e) for e in redis_client.lrange(probe_service.RUNS_KEY, 0, -1)]
    assert [e["event"] for e in log] == ["start", "end"] * len(ran)  # strictly one at a time


def test_the_cli_pauses_resumes_and_lists_a_service(
    redis_client: redis.Redis, database_url: str
) -> None:
    greenhouse("services", "pause", "retention", "--reason", "disk work", database_url=database_url)
    listed = json.loads(greenhouse("services", "list", "--json", database_url=database_url).stdout)
    retention = next(s for s in listed if s["name"] == "retention")
    assert retention["state"] == "paused until resumed: by an operator: disk work"
    greenhouse("services", "resume", "retention", database_url=database_url)
    listed = json.loads(greenhouse("services", "list", "--json", database_url=database_url).stdout)
    assert {s["name"]: s["state"] for s in listed}["retention"] == "ok"
    with pytest.raises(subprocess.CalledProcessError) as refused:
        greenhouse("services", "set", "retention", "interval_s=soon", database_url=database_url)
    assert "interval_s must be like" in refused.value.stderr
    with pytest.raises(subprocess.CalledProcessError) as refused:  # settings that go together
        greenhouse("services", "set", "stats-warmer", "interval_s=60", database_url=database_url)
    assert "lead_s (25) must exceed interval_s (60)" in refused.value.stderr

"""Identification at scale through real workers on the threads pool, the sandbox over HTTP:
overlapping calls, a rate shared by two worker processes, a 429 pausing every process, quota
shares by priority, photos prepared before any call."""

import base64
import uuid
from typing import Any

import pytest
from celery.result import AsyncResult

from bench.identification_photos import phone_photo, reencoded
from harness.observe import eventually
from harness.sandbox import Sandbox
from harness.workers import Workers
from localkit.samples import sample_png
from tasks.app import app

QUEUE = "identification"
THREADS = {"WORKER_POOL": "threads"}


def _identify(image: bytes, **options: Any) -> AsyncResult:
    kwargs = {"images": [base64.b64encode(image).decode()]}
    return app.send_task("identification.identify", kwargs=kwargs, queue=QUEUE, **options)


def _unique(count: int) -> list[bytes]:
    start = uuid.uuid4().int % 10**9
    return [sample_png(start + n) for n in range(count)]


def test_forty_identifications_on_32_threads_overlap_their_provider_calls(
    workers: Workers, sandbox: Sandbox
) -> None:
    sandbox.configure(plant_id={"latency_ms": 1000}, plantnet={"latency_ms": 1000})
    slack = {"PROVIDER_READ_TIMEOUT_S": "20", "PROVIDER_DEADLINE_S": "30"}  # a loaded machine
    workers.start(queues=QUEUE, concurrency=32, env=sandbox.env(**THREADS, **slack))
    results = [_identify(image) for image in _unique(40)]
    assert all(r.get(timeout=60)["sources"]["plantnet"]["status"] == "ok" for r in results)
    most = sandbox.concurrency()
    # One process: a prefork child (or pybreaker's lock) would show 1 here.
    assert most["plant_id"]["max_in_flight"] >= 16 and most["plantnet"]["max_in_flight"] >= 16


def test_a_rate_limit_holds_across_two_worker_processes(workers: Workers, sandbox: Sandbox) -> None:
    env = sandbox.env(**THREADS, PLANTNET_RPS="4", PLANT_ID_RPS="4", THROTTLE_WAIT_S="30")
    env["PROVIDER_DEADLINE_S"] = "40"
    for _ in range(2):
        workers.start(queues=QUEUE, concurrency=16, env=env)
    results = [_identify(image) for image in _unique(40)]
    assert all(r.get(timeout=90)["sources"]["plantnet"]["status"] == "ok" for r in results)
    arrivals = sorted(sandbox.arrivals()["plantnet"])
    assert len(arrivals) == 40
    # Any 2 s window holds at most 4/s * 2 s plus the burst of 1 (GCRA), whatever the process.
    busiest = max(sum(1 for t in arrivals if start <= t < start + 2.0) for start in arrivals)
    assert busiest <= 9, busiest


def test_a_429_with_retry_after_stops_calls_from_every_process_for_that_long(
    workers: Workers, sandbox: Sandbox
) -> None:
    for _ in range(2):
        workers.start(queues=QUEUE, concurrency=8, env=sandbox.env(**THREADS))
    sandbox.configure(plantnet={"rate_limit_retry_after_s": 3})
    first = _identify(_unique(1)[0]).get(timeout=30)
    assert first["sources"]["plantnet"]["status"] == "failed"  # it said 429
    sandbox.configure(plantnet={"rate_limit_retry_after_s": None})
    (limited_at,) = sandbox.arrivals()["plantnet"]
    during = [_identify(image).get(timeout=30) for image in _unique(8)]  # on either worker
    assert {r["sources"]["plantnet"]["status"] for r in during} == {"skipped"}
    assert {r["sources"]["plant_id"]["status"] for r in during} == {"ok"}

    def answered_after_the_pause() -> bool:
        return _identify(_unique(1)[0]).get(timeout=30)["sources"]["plantnet"]["status"] == "ok"

    eventually(answered_after_the_pause, timeout_s=20, what="PlantNet asked again")
    arrivals = sandbox.arrivals()["plantnet"]
    assert len(arrivals) == 2 and arrivals[1] >= limited_at + 3.0 - 0.2, arrivals


def test_low_priorities_leave_the_reserved_share_of_the_quota_to_high_ones(
    workers: Workers, sandbox: Sandbox
) -> None:
    sandbox.configure(plantnet={"daily_quota": 10})  # and says so in its answers
    env = sandbox.env(**THREADS, PLANTNET_DAILY_LIMIT="10", QUOTA_RESERVE_SHARE="0.3")
    workers.start(queues=QUEUE, concurrency=4, env=env)
    low = [_identify(image, priority=2).get(timeout=30) for image in _unique(10)]
    spent = [r["sources"]["plantnet"]["status"] for r in low]
    assert spent.count("ok") == 7 and spent.count("skipped") == 3  # 30 % of 10 kept
    assert all(r["sources"]["plant_id"]["status"] == "ok" for r in low)  # the other answered
    high = [_identify(image, priority=9).get(timeout=30) for image in _unique(4)]
    spent = [r["sources"]["plantnet"]["status"] for r in high]
    assert spent.count("ok") == 3 and spent.count("skipped") == 1  # down to nothing, no further
    assert sandbox.calls()["plantnet"] == 10


def test_a_corrupt_photo_never_reaches_a_provider(workers: Workers, sandbox: Sandbox) -> None:
    workers.start(queues=QUEUE, concurrency=8, env=sandbox.env(**THREADS))
    cut_short = phone_photo(1, width_px=800, height_px=600)[:-200]
    with pytest.raises(Exception, match="truncated or corrupt"):
        _identify(cut_short).get(timeout=30)
    assert sandbox.calls() == {"plant_id": 0, "plantnet": 0}


def test_the_same_picture_resent_smaller_and_recompressed_is_a_cache_hit(
    workers: Workers, sandbox: Sandbox
) -> None:
    workers.start(queues=QUEUE, concurrency=8, env=sandbox.env(**THREADS))
    # A fixed photo: the 64-bit hash keeps about 19 in 20 pictures' copies on the same key.
    photo = phone_photo(2, width_px=2000, height_px=1500)
    first = _identify(photo).get(timeout=30)
    again = _identify(reencoded(photo, side_px=800, quality=60, fmt="JPEG")).get(timeout=30)
    assert not first["cached"] and again["cached"]
    assert again["image_sha256"] == first["image_sha256"]
    eventually(lambda: sandbox.calls() == {"plant_id": 1, "plantnet": 1}, what="one call each")


def test_the_breaker_opens_admits_one_trial_across_two_threads_workers_and_closes(
    workers: Workers, sandbox: Sandbox
) -> None:
    env = sandbox.env(**THREADS, PLANTNET_BREAKER_FAIL_MAX="3", PLANTNET_BREAKER_RESET_S="2")
    for _ in range(2):
        workers.start(queues=QUEUE, concurrency=16, env=env)
    sandbox.configure(plantnet={"error_rate": 1.0})

    def opened() -> bool:
        result = _identify(_unique(1)[0]).get(timeout=30)
        return bool(result["sources"]["plantnet"]["status"] == "skipped")

    eventually(opened, timeout_s=30, what="PlantNet's breaker to open")
    assert sandbox.calls()["plantnet"] == 3
    sandbox.configure(plantnet={"error_rate": 0.0, "latency_ms": 1000})
    trial_due = sandbox.calls()["plantnet"]
    eventually(lambda: _half_open(sandbox, trial_due), timeout_s=15, what="the half-open trial")
    closed = [r.get(timeout=30) for r in [_identify(image) for image in _unique(16)]]
    assert {r["sources"]["plantnet"]["status"] for r in closed} == {"ok"}
    assert sandbox.concurrency()["plantnet"]["max_in_flight"] > 1  # closed: calls overlap again


def _half_open(sandbox: Sandbox, calls_before: int) -> bool:
    """Sixteen requests at once once the breaker may half-open: exactly one trial goes out."""
    batch = [_identify(image) for image in _unique(16)]
    statuses = [r.get(timeout=30)["sources"]["plantnet"]["status"] for r in batch]
    if "ok" not in statuses:
        return False  # still open: all skipped
    assert statuses.count("ok") == 1 and sandbox.calls()["plantnet"] == calls_before + 1
    assert sandbox.concurrency()["plantnet"]["max_in_flight"] == 1
    return True

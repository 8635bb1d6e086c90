"""A provider that answers slowly: every call stops at its deadline, the healthy provider is
never starved, the slow one's breaker opens (the sandbox over HTTP; real workers)."""

import base64
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harness.sandbox import Sandbox
from harness.workers import Workers
from localkit.samples import sample_png
from services.errors import TransientError
from services.identification.payload import parse
from services.identification.plantid import PlantIdClient
from tasks.app import app


def _request(seed: int):
    return parse({"images": [base64.b64encode(sample_png(seed)).decode()]})


@pytest.mark.parametrize(
    "slowness",
    [{"trickle_s": 10}, {"latency_ms": 10_000}],
    ids=["answer-trickles-in", "answer-comes-late"],
)
def test_a_call_stops_at_its_deadline_however_the_provider_is_slow(
    sandbox: Sandbox, slowness: dict
) -> None:
    """httpx's timeouts (15 s here) bound each read; a byte a second passes every one of them,
    and the 10 s answer would come in whole. The call must give up at its deadline instead: it
    fails before the answer could have been read, which the 5 s wait below tells apart."""
    sandbox.configure(plant_id=slowness)
    with (
        httpx.Client(timeout=httpx.Timeout(15, connect=3)) as http,
        ThreadPoolExecutor(1) as pool,
    ):
        client = PlantIdClient(http, base_url=sandbox.server.plant_id_url, api_key="k")
        call = pool.submit(client.identify, _request(1), deadline=time.monotonic() + 1.0)
        with pytest.raises(TransientError, match="plant_id"):
            call.result(timeout=5)


def test_a_slow_provider_neither_starves_the_healthy_one_nor_keeps_its_breaker_closed(
    workers: Workers, sandbox: Sandbox
) -> None:
    sandbox.configure(plant_id={"trickle_s": 10}, plantnet={"latency_ms": 100})
    env = sandbox.env(
        PROVIDER_DEADLINE_S="2", PROVIDER_POOL_SIZE="2", PLANT_ID_BREAKER_FAIL_MAX="2"
    )
    workers.start(queues="identification", concurrency=2, env=env)
    results = [
        app.send_task(
            "identification.identify",
            kwargs={"images": [base64.b64encode(sample_png(500 + n)).decode()]},
            queue="identification",
        )
        for n in range(12)
    ]
    answers = [result.get(timeout=120) for result in results]
    plantnet = [answer["sources"]["plantnet"] for answer in answers]
    plant_id = [answer["sources"]["plant_id"]["status"] for answer in answers]
    # Never starved: a PlantNet call queued behind Plant.id's would miss the 2 s deadline.
    assert all(source["status"] == "ok" for source in plantnet)
    assert "skipped" in plant_id  # its breaker opened on calls cut off at the deadline
    # Two failures open it; at most one more call per process was already under way.
    assert sandbox.calls()["plant_id"] <= 2 + 2

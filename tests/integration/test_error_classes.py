"""Failures that clear by themselves are transient, with a sensible delay, and count against a
provider's breaker where a provider caused them: each produced by a real part."""

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from harness import postgres
from harness.observe import dead_letters
from harness.sandbox import Sandbox
from harness.servers import start_embedded_redis
from harness.workers import Workers
from localkit.samples import sample_png
from services.db import make_engine
from services.errors import TransientError, classify
from services.identification.payload import parse
from services.identification.plantid import PlantIdClient
from services.identification.providers import http_client
from services.resilience.breaker import CircuitBreaker
from tasks.app import app


@pytest.fixture
def full_redis() -> Iterator[redis.Redis]:
    """A private Redis at its maxmemory, refusing writes (noeviction)."""
    server = start_embedded_redis()
    client = redis.Redis.from_url(server.url)
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory", used + 256 * 1024)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for n in range(10_000):
            client.set(f"filler:{n}", b"x" * 1024)
    yield client
    client.close()
    server.stop()


def test_redis_out_of_memory_is_transient_with_a_delay(full_redis: redis.Redis) -> None:
    with pytest.raises(redis.exceptions.OutOfMemoryError) as raised:
        full_redis.set("one-more", b"x" * 1_000_000)
    verdict = classify(raised.value)
    assert verdict.transient and verdict.min_delay_s >= 5


def test_a_full_cache_redis_costs_the_cache_not_the_identification(
    workers: Workers, sandbox: Sandbox, full_redis: redis.Redis, database_url: str
) -> None:
    """At maxmemory the answer is not cached, but it is answered and recorded, once."""
    port = full_redis.get_connection_kwargs()["port"]
    env = sandbox.env(CACHE_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    workers.start(queues="identification", env=env)
    photo = base64.b64encode(sample_png(31)).decode()
    result = app.send_task("identification.identify", kwargs={"images": [photo]}).get(timeout=60)
    assert result["sources"]["plant_id"]["status"] == "ok" and not result["cached"]
    assert sandbox.calls() == {"plant_id": 1, "plantnet": 1}
    assert dead_letters(database_url, count=0, timeout_s=0) == []


def test_a_read_only_replica_is_transient_with_a_delay() -> None:
    primary, replica = start_embedded_redis(), start_embedded_redis()
    try:
        client = redis.Redis.from_url(replica.url)
        client.replicaof("127.0.0.1", primary.port)
        with pytest.raises(redis.exceptions.ReadOnlyError) as raised:
            client.set("key", "value")
        verdict = classify(raised.value)
        assert verdict.transient and verdict.min_delay_s >= 1
    finally:
        replica.stop()
        primary.stop()


def test_no_free_pooled_connection_in_time_is_transient(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    held = engine.connect()
    try:
        with pytest.raises(sa.exc.TimeoutError) as raised:
            engine.connect()
        assert classify(raised.value).transient
    finally:
        held.close()
        engine.dispose()


@pytest.mark.skipif(not postgres.reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_a_read_only_postgres_transaction_is_transient_with_a_delay() -> None:
    with postgres.scratch_database() as url:
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE t (n int)"))
            with pytest.raises(sa.exc.DBAPIError) as raised, engine.begin() as connection:
                connection.execute(sa.text("SET TRANSACTION READ ONLY"))
                connection.execute(sa.text("INSERT INTO t VALUES (1)"))
            verdict = classify(raised.value)
            assert verdict.transient and verdict.min_delay_s >= 1
        finally:
            engine.dispose()


@pytest.mark.parametrize("broken", ["html", "gzip"], ids=["maintenance-page", "garbled-body"])
def test_a_200_that_is_not_an_answer_is_transient_and_counts_against_the_breaker(
    sandbox: Sandbox, redis_url: str, broken: str
) -> None:
    sandbox.configure(plant_id={"broken_body": broken})
    breaker = CircuitBreaker(
        f"broken-{broken}", redis.Redis.from_url(redis_url), fail_max=2, reset_timeout_s=60
    )
    request = parse({"images": [base64.b64encode(sample_png(32)).decode()]})
    with http_client(connect_timeout_s=2, read_timeout_s=2) as http:
        client = PlantIdClient(http, base_url=sandbox.server.plant_id_url, api_key="k")
        for _ in range(2):
            with pytest.raises(TransientError, match="plant_id"):
                breaker.call(client.identify, request, deadline=time.monotonic() + 5)
    assert breaker.current_state == "open"

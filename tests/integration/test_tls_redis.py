"""rediss:// with a CA file and an ACL user (the default user off), on a private TLS-only Redis
this test starts: broker, results, breakers, caches and locks all work through it, and the
operators' commands too."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from harness.client import client_app
from harness.observe import eventually
from harness.sandbox import Sandbox
from harness.tls_redis import TlsRedis, tls_redis, tls_redis_binary
from harness.workers import Workers
from localkit.samples import sample_png


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[TlsRedis]:
    if tls_redis_binary() is None:
        pytest.skip("no redis-server built with TLS on this machine (Debian's redis-server is)")
    directory = tmp_path / "tls"
    directory.mkdir()
    with tls_redis(directory) as server:
        yield server


def test_every_part_works_over_tls_with_an_acl_user(
    tls: TlsRedis, sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    workers = Workers(redis_url=tls.url, database_url=database_url, log_dir=tmp_path / "log")
    try:
        env = sandbox.env(PLANTNET_BREAKER_FAIL_MAX="1")
        workers.start(queues="identification,statistics,maintenance", env=env)
        app = client_app(tls.url)
        photo = base64.b64encode(sample_png(41)).decode()
        identify = {"images": [photo]}
        first = app.send_task("identification.identify", kwargs=identify, queue="identification")
        assert first.get(timeout=60)["cached"] is False
        again = app.send_task("identification.identify", kwargs=identify, queue="identification")
        assert again.get(timeout=60)["cached"] is True
        sandbox.configure(plantnet={"error_rate": 1.0})
        other = {"images": [base64.b64encode(sample_png(42)).decode()]}
        partial = app.send_task("identification.identify", kwargs=other, queue="identification")
        assert partial.get(timeout=60)["sources"]["plantnet"]["status"] == "failed"
        summary = app.send_task("statistics.identification_summary", queue="statistics")
        assert summary.get(timeout=60)["days"] == 7
        workers.start_beat()  # RedBeat's schedule and lock over TLS too
        beat = redis.Redis.from_url(tls.url)
        eventually(lambda: beat.exists("greenhouse:heartbeat:scheduler"), what="beat ticking")
    finally:
        workers.stop_all()
    client = redis.Redis.from_url(tls.url)
    assert client.acl_whoami() == "greenhouse"
    assert client.hget("greenhouse:breaker:plantnet", "state") == b"open"
    assert list(client.scan_iter(match="greenhouse:v*:identification:*"))
    assert list(client.scan_iter(match="greenhouse:v*:stats:*"))
    env = os.environ | {"REDIS_URL": tls.url, "DATABASE_URL": database_url}
    env.pop("BROKER_URL", None)
    greenhouse = str(Path(sys.executable).with_name("greenhouse"))
    status = subprocess.run(
        [greenhouse, "status", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stdout + status.stderr
    breakers = {b["name"]: b["state"] for b in json.loads(status.stdout)["breakers"]}
    assert breakers["plantnet"] == "open"
    insecure = tls.url.replace(f"?ssl_ca_certs={tls.ca_file}&", "?")  # no CA: not trusted
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        redis.Redis.from_url(insecure).ping()

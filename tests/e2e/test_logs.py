"""Every log line of a `greenhouse up` stack (worker, beat, Flower) after a run with real-looking
keys and passwords set: JSON with the task's id, name and request id on each line of a task, and
never a key, a password or a photo."""

from __future__ import annotations

import base64
import json
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from harness.observe import eventually, fresh_machine_env, greenhouse_up
from localkit.samples import sample_jpeg
from localkit.sandbox.server import SandboxServer

SECRETS = {
    "PLANT_ID_API_KEY": "pk_live_" + uuid.uuid4().hex,
    "PLANTNET_API_KEY": "2b10" + uuid.uuid4().hex[:22],
    "FLOWER_BASIC_AUTH": "ops:fl0wer-" + uuid.uuid4().hex[:10],
    "FLOWER_COOKIE_SECRET": "cookie-" + uuid.uuid4().hex,
}


@pytest.fixture
def sandbox() -> Any:
    server = SandboxServer().start()
    yield server
    server.stop()


def test_a_run_logs_json_with_task_context_and_no_secret_or_photo(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    env = (
        fresh_machine_env(tmp_path, uuid.uuid4().hex)
        | SECRETS
        | {
            "LOG_FORMAT": "json",
            "PLANT_ID_URL": sandbox.plant_id_url,  # the keys are set: `up` starts no sandbox
            "PLANTNET_URL": sandbox.plantnet_url,
        }
    )
    photo = base64.b64encode(sample_jpeg(11)).decode()
    up = greenhouse_up(env, tmp_path)
    try:
        app = _client(env)
        eventually(lambda: _answers(app), timeout_s=120, what="a worker")
        answer = app.send_task(
            "identification.identify",
            kwargs={"images": [photo], "request_id": "req-logs-1"},
            queue="identification",
        ).get(timeout=60)
        assert answer["request_id"] == "req-logs-1"
        with pytest.raises(Exception, match="not valid base64"):
            app.send_task(
                "identification.identify", kwargs={"images": ["%%" + photo]}, queue="identification"
            ).get(timeout=60)
    finally:
        up.send_signal(signal.SIGINT)
        up.communicate(timeout=90)
    logs = {path.name: path.read_text() for path in (tmp_path / "var" / "log").glob("*.log")}
    assert {"worker-identification.log", "beat.log", "flower.log"} <= set(logs), set(logs)
    for name, text in logs.items():
        for secret in (*SECRETS.values(), "fl0wer-"):
            assert secret.split(":")[-1] not in text, f"{name} shows {secret[:8]}…"
        assert photo[:80] not in text and photo[-80:] not in text, f"{name} shows the photo"
    worker_lines = logs["worker-identification.log"].splitlines()
    lines = [json.loads(line) for line in worker_lines if line.startswith("{")]
    ours = [line for line in lines if line.get("request_id") == "req-logs-1"]
    assert ours and all(line["task_name"] == "identification.identify" for line in ours)
    assert all(line.get("task_id") for line in ours)


def _client(env: dict[str, str]) -> Any:
    from harness.client import client_app

    return client_app(f"redis://127.0.0.1:{env['EMBEDDED_REDIS_PORT']}/0")


def _answers(app: Any) -> bool:
    try:
        return bool(app.control.ping(timeout=1))
    except Exception:
        return False

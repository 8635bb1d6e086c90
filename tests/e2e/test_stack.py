"""`greenhouse up` as an operator runs it: embedded Redis, worker, beat, Flower, then Ctrl-C."""

import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from harness.observe import eventually, fresh_machine_env, greenhouse_up, processes_with
from localkit.redis_server import answers

SECRET = f"s3cret-{uuid.uuid4().hex[:6]}"


def _flower_status(port: str, auth: tuple[str, str] | None) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/workers", auth=auth, timeout=5).status_code
    except httpx.TransportError:
        return 0


def test_up_runs_beat_and_guarded_flower_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    env = fresh_machine_env(tmp_path, marker) | {"FLOWER_BASIC_AUTH": f"ops:{SECRET}"}
    up = greenhouse_up(env, tmp_path)
    try:
        port = env["FLOWER_PORT"]
        eventually(lambda: _flower_status(port, ("ops", SECRET)) == 200, timeout_s=90)
        assert _flower_status(port, None) == 401
        # beat → broker → worker: the heartbeat key `greenhouse health` reads.
        health = [str(Path(sys.executable).with_name("greenhouse")), "health"]
        eventually(lambda: subprocess.run(health, env=env).returncode == 0, timeout_s=90)
        for proc in processes_with(marker.encode()):  # the secret is never on a command line
            assert SECRET.encode() not in (proc / "cmdline").read_bytes()
    finally:
        up.send_signal(signal.SIGINT)
        output = up.communicate(timeout=90)[0]
    assert up.returncode == 0, output
    assert "stopped every process" in output
    assert processes_with(marker.encode()) == []
    assert not answers(f"redis://127.0.0.1:{env['EMBEDDED_REDIS_PORT']}/0")

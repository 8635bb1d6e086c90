"""`greenhouse demo --once` on a fresh directory: embedded Redis, SQLite, worker, beat, Flower."""

import subprocess
import sys
import uuid
from pathlib import Path

from harness.observe import fresh_machine_env, processes_with
from localkit.redis_server import answers


def test_demo_once_runs_the_batch_on_embedded_parts_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    marker = uuid.uuid4().hex
    env = fresh_machine_env(tmp_path, marker)
    greenhouse = str(Path(sys.executable).with_name("greenhouse"))
    done = subprocess.run(
        [greenhouse, "demo", "--once", "--tasks", "12"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all tasks succeeded" in done.stdout
    assert done.stdout.count("SUCCESS") == 12
    assert "Forum overview" in done.stdout and "Identifications, last 7 days" in done.stdout
    assert "Periodic services" in done.stdout  # each ran once under beat (else exit 1)
    assert "Review queue (the newest 400 posts scored)" in done.stdout
    var = tmp_path / "var"
    assert (var / "greenhouse.db").exists()
    assert (var / "appendonly.aof").exists() or (var / "appendonlydir").exists()
    # Everything stopped: no process carries our marker, Redis is gone, no pid files remain.
    assert processes_with(marker.encode()) == []
    assert not answers(f"redis://127.0.0.1:{env['EMBEDDED_REDIS_PORT']}/0")
    assert list(var.rglob("*.pid")) == []

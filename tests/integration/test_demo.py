"""`greenhouse demo --once` on a fresh directory: embedded Redis, SQLite, worker, beat, Flower."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from services.embedded import answers
from tests.support.servers import free_port


def _processes_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_demo_once_runs_the_batch_on_embedded_parts_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    marker = f"GREENHOUSE_TEST_MARK={uuid.uuid4().hex}"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "BROKER_URL", "RESULT_BACKEND"}
    }
    env |= {
        "VAR_DIR": str(tmp_path / "var"),
        "EMBEDDED_REDIS_PORT": str(port),
        "FLOWER_PORT": str(free_port()),
        "COLUMNS": "160",
        marker.split("=")[0]: marker.split("=")[1],
    }
    greenhouse = Path(sys.executable).with_name("greenhouse")
    done = subprocess.run(
        [str(greenhouse), "demo", "--once", "--tasks", "12"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all tasks succeeded" in done.stdout
    assert done.stdout.count("SUCCESS") == 12
    assert (tmp_path / "var" / "greenhouse.db").exists()
    assert (tmp_path / "var" / "appendonly.aof").exists() or (
        tmp_path / "var" / "appendonlydir"
    ).exists()
    # Everything stopped: no process carries our marker, Redis is gone, no pid files remain.
    assert _processes_with(marker) == []
    assert not answers(f"redis://127.0.0.1:{port}/0")
    assert list((tmp_path / "var").rglob("*.pid")) == []

"""Importing any module starts no process, opens no connection, registers no exit or fork hook
and changes no logger (harness/import_probe.py records each, in a fresh interpreter)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_module_with_redis_url_unset_has_no_effect(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("REDIS_URL", "BROKER_URL"))}
    probe = subprocess.run(
        [sys.executable, "-m", "harness.import_probe"],
        env=env | {"VAR_DIR": str(tmp_path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(probe.stdout.splitlines()[-1])
    assert {"celeryconfig", "tasks.app", "tasks.hooks", "localkit.stack"} <= set(report["imported"])
    assert report["effects"] == []
    assert not list(tmp_path.iterdir())  # no embedded Redis data, no database file

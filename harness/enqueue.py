"""Publish tasks through the Greenhouse app of a fresh process (so BROKER_URL can differ).

As a script it reads one JSON object per line on stdin: {"name", "args", "kwargs", "priority",
"queue"}, and prints the task ids, one per line; `enqueue()` runs it from a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def enqueue(specs: list[dict[str, Any]], env: Mapping[str, str]) -> list[str]:
    """Publish `specs` from a process with `env` (its BROKER_URL); their task ids."""
    lines = "".join(json.dumps(spec) + "\n" for spec in specs)
    done = subprocess.run(
        [sys.executable, "-m", "harness.enqueue"],
        input=lines,
        text=True,
        capture_output=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    return done.stdout.split()


def main() -> None:
    from tasks.app import app

    for line in sys.stdin:
        spec = json.loads(line)
        result = app.send_task(
            spec["name"],
            spec.get("args", []),
            spec.get("kwargs", {}),
            queue=spec.get("queue"),
            priority=spec.get("priority"),
        )
        print(result.id, flush=True)


if __name__ == "__main__":
    main()

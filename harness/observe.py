"""Looking at what real processes did: dead letters in the database, the real CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

from harness.servers import free_port
from services.bootstrap import dead_letter_store
from services.delivery.deadletters import DeadLetter
from services.settings import Settings


def dead_letters(database_url: str, *, count: int = 1, timeout_s: float = 10) -> list[DeadLetter]:
    """The dead letters, once `count` are there (a worker records them after the result)."""
    store = dead_letter_store(Settings(database_url=database_url))
    deadline = time.monotonic() + timeout_s
    while len(letters := store.list()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return letters


def greenhouse(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `greenhouse` command against the test's Redis and database."""
    env = {**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"}
    command = [str(Path(sys.executable).with_name("greenhouse")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True)


def greenhouse_up(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """`greenhouse up` as an operator starts it; its output (stdout and stderr) on a pipe."""
    command = [str(Path(sys.executable).with_name("greenhouse")), "up"]
    return subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def eventually(predicate: Callable[[], object], *, timeout_s: float = 30, what: str = "") -> None:
    """Wait until `predicate()` is truthy; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or predicate}")
        time.sleep(0.02)


def processes_with(marker: bytes) -> list[Path]:
    """/proc entries of live processes whose environment contains `marker`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "environ").read_bytes():
                found.append(proc)
        except OSError:
            continue
    return found


def fresh_machine_env(tmp_path: Path, marker: str) -> dict[str, str]:
    """This environment minus any Redis or database: what a fresh clone sees; marked."""
    configured = {"REDIS_URL", "DATABASE_URL", "BROKER_URL", "RESULT_BACKEND"}
    env = {key: value for key, value in os.environ.items() if key not in configured}
    return env | {
        "VAR_DIR": str(tmp_path / "var"),
        "EMBEDDED_REDIS_PORT": str(free_port()),
        "FLOWER_PORT": str(free_port()),
        "SANDBOX_PORT": str(free_port()),
        "GREENHOUSE_TEST_MARK": marker,
        "COLUMNS": "160",
    }


def countdowns(worker_log: str, task_id: str) -> list[float]:
    """The retry countdowns the base task chose for `task_id`, from the worker's log."""
    pattern = re.compile(rf"\[{re.escape(task_id)}\] transient .*?; retry in ([0-9.]+)s")
    return [float(seconds) for seconds in pattern.findall(worker_log)]


def child_pids(pid: int) -> list[int]:
    """Live direct children of `pid` (a worker's pool processes), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: fields follow the last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def breaker_trial_due(client: redis.Redis, name: str, *, reset_timeout_s: float) -> bool:
    """True once Redis's clock has passed the open breaker's reset timeout: its next call is
    the half-open trial."""
    opened_ms = client.hget(f"greenhouse:breaker:{name}", "opened_ms")
    seconds, micros = client.time()
    now_ms = seconds * 1000 + micros // 1000
    return opened_ms is not None and now_ms >= int(opened_ms) + reset_timeout_s * 1000

"""Real Celery worker processes for integration tests, always stopped afterwards."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from localkit.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parents[1]

# Short delays so retry tests take seconds; still a valid configuration for the startup check.
FAST = {
    "RETRY_BASE_DELAY_S": "0.2",
    "RETRY_MAX_DELAY_S": "2",
    "TASK_SOFT_TIME_LIMIT_S": "50",
    "TASK_TIME_LIMIT_S": "60",
    "DELIVERY_LEASE_S": "6",
    "LEASE_RENEW_INTERVAL_S": "1",
    "REDIS_SOCKET_TIMEOUT_S": "3",
}


@dataclass
class Worker:
    """One `celery worker` process (main process pid; pool children in its group)."""

    child: Child
    nodename: str

    @property
    def pid(self) -> int:
        return self.child.process.pid

    def log(self) -> str:
        return self.child.log_path.read_text(errors="replace")


class Workers:
    """Starts workers with the test's Redis and database; stops them all at teardown."""

    def __init__(self, *, redis_url: str, database_url: str, log_dir: Path) -> None:
        self.env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
            **FAST,
        }
        self.supervisor = Supervisor(log_dir=log_dir, stop_timeout_s=20)

    def start(
        self,
        *,
        queues: str = "identification,statistics,maintenance,default",
        concurrency: int = 1,
        env: Mapping[str, str] | None = None,
        app: str = "harness.worker_app",
        wait: bool = True,
    ) -> Worker:
        nodename = f"test-{uuid.uuid4().hex[:8]}@%h"
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-n",
            nodename,
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ]
        child = self.supervisor.start(nodename.split("@")[0], argv, env={**self.env, **(env or {})})
        worker = Worker(child, nodename)
        if wait:
            self.wait_ready(worker)
        return worker

    def wait_ready(self, worker: Worker, *, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if " ready." in worker.log():
                return
            if worker.child.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{worker.log()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready in {timeout_s}s:\n{worker.log()[-3000:]}")

    def start_beat(
        self, *, env: Mapping[str, str] | None = None, app: str = "harness.worker_app"
    ) -> Child:
        """A `celery beat` process (GreenhouseScheduler: RedBeat on this test's Redis)."""
        argv = [sys.executable, "-m", "celery", "-A", app, "beat", "--loglevel", "INFO"]
        name = f"beat-{uuid.uuid4().hex[:8]}"
        return self.supervisor.start(name, argv, env={**self.env, **(env or {})})

    def start_flower(self, *, port: int, env: Mapping[str, str] | None = None) -> Child:
        """`greenhouse flower` (as `up` and docker-compose run it) on 127.0.0.1:`port`."""
        argv = [str(Path(sys.executable).with_name("greenhouse")), "flower"]
        flower_env = {"FLOWER_PORT": str(port), "VAR_DIR": str(self.supervisor.log_dir)}
        return self.supervisor.start("flower", argv, env={**self.env, **flower_env, **(env or {})})

    def stop_all(self) -> None:
        self.supervisor.stop_all()


# The shipped lease, so the fault figures are those production gets.
PRODUCTION_LEASE = {
    "DELIVERY_LEASE_S": "30",
    "LEASE_RENEW_INTERVAL_S": "5",
    "REDIS_SOCKET_TIMEOUT_S": "10",
}

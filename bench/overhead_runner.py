"""One system under measurement: its own Redis server, its worker and its caller, and a round.

Between rounds the worker's process group is stopped (SIGSTOP), so a batch is published while
nothing consumes it and the round's clock, CPU and command counts start when it is continued.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench.overhead_systems import Factory
from bench.worker_cost import Background, Probe, difference, tree_cpu_s
from harness.servers import free_port
from localkit.redis_server import EmbeddedRedis
from localkit.supervisor import Child, Supervisor

READY_TIMEOUT_S = 90.0
ROUND_TIMEOUT_S = 300.0


@dataclass
class Round:
    """What one batch cost, the idle worker's background already taken out."""

    tasks: int
    run_s: float
    publish: Counter[str]  # the caller's commands while the worker was stopped
    run: dict[str, float]  # worker and result pick-up, from continue to the last ack
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.tasks / self.run_s

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / self.tasks * 1000

    def per_task(self) -> float:
        return (sum(self.publish.values()) + sum(self.run.values())) / self.tasks


class Running:
    """A started system: `with Running(factory) as system: system.round(1000)`."""

    def __init__(self, factory: Factory) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="greenhouse-bench-overhead-"))
        # Its own server, so INFO commandstats counts this system alone; no append-only file,
        # as for every system here.
        self.redis = EmbeddedRedis(
            data_dir=self.workdir / "redis", port=free_port(), appendonly=False
        )
        self.factory = factory
        self.supervisor = Supervisor(log_dir=self.workdir, stop_timeout_s=20)
        self.background = Background({}, 0.0)

    def __enter__(self) -> Running:
        try:
            self.redis.start()
            system = self.system = self.factory(self.redis.url, self.workdir)
            self.probe = Probe(self.redis.url)
            self.worker = self.supervisor.start("worker", system.worker_argv, env=system.env)
            self._wait_ready()
            self.caller = self._start_caller()
            self._pause()  # idle until its turn: no noise in the other systems' rounds
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def round(self, tasks: int) -> Round:
        """Publish `tasks` no-ops to the stopped worker, then let it run them all."""
        self._pause()
        before = self.probe.commands()
        self._ask(f"publish {tasks}")
        published, cpu_before = self.probe.commands(), self._cpu_s()
        started = time.monotonic()
        self._resume()
        self._ask("collect")
        self.probe.wait_until_empty(self.system.drained_key, timeout_s=ROUND_TIMEOUT_S)
        run_s = time.monotonic() - started
        self._pause()  # its trailing work is counted in the next round, as this one's was
        cpu_s, after = self._cpu_s(), self.probe.commands()
        run = difference(after, published)
        idle = self.background.commands_over(run_s)
        return Round(
            tasks=tasks,
            run_s=run_s,
            publish=difference(published, before),
            run={name: run[name] - idle.get(name, 0.0) for name in set(run) | set(idle)},
            cpu_s=cpu_s - cpu_before - self.background.cpu_s_per_s * run_s,
        )

    def measure_background(self, *, settle_s: float, idle_s: float) -> Background:
        """The idle worker's commands and CPU per second; later rounds subtract them."""
        self._resume()
        time.sleep(settle_s)  # the last batch's tail and overdue timers: not idle cost
        self.background = Background.measure(self.probe, self._cpu_s, idle_s=idle_s)
        self._pause()
        return self.background

    def log_tail(self, chars: int = 3000) -> str:
        return self.worker.log_path.read_text(errors="replace")[-chars:]

    def close(self) -> None:
        with contextlib.suppress(AttributeError):
            self._resume()  # a stopped process group cannot act on SIGTERM
        caller = getattr(self, "caller", None)
        if caller is not None and caller.poll() is None:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                caller.communicate("quit\n", timeout=10)
            if caller.poll() is None:
                caller.kill()
                caller.wait()
        self.supervisor.stop_all()
        if hasattr(self, "probe"):
            self.probe.close()
        self.redis.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while self.log_tail(1_000_000).count(self.system.ready_marker) < self.system.ready_count:
            if self.worker.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def _start_caller(self) -> subprocess.Popen[str]:
        with (self.workdir / "caller.log").open("a") as log:
            return subprocess.Popen(
                self.system.caller_argv,
                env=self.system.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )

    def _ask(self, command: str) -> None:
        assert self.caller.stdin is not None and self.caller.stdout is not None
        self.caller.stdin.write(command + "\n")
        self.caller.stdin.flush()
        answer = self.caller.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"caller answered {answer!r} to {command!r}; see {self.workdir}")

    def _cpu_s(self) -> float:
        return tree_cpu_s(self.worker.process.pid)

    def _pause(self) -> None:
        _signal_group(self.worker, signal.SIGSTOP)

    def _resume(self) -> None:
        _signal_group(self.worker, signal.SIGCONT)


def _signal_group(worker: Child, sig: signal.Signals) -> None:
    """The worker and its pool processes (the supervisor gives each a group of its own)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.process.pid, sig)

"""A small supervisor: child process groups that are always stopped, never orphaned."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)


@dataclass
class Child:
    """One supervised command, running in its own process group."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path


class ChildDied(RuntimeError):
    """A supervised process exited while it should be running."""


class Supervisor:
    """Starts commands in their own process groups; stops them in reverse order on exit."""

    def __init__(self, *, log_dir: Path, stop_timeout_s: float = 30.0) -> None:
        self.log_dir = log_dir
        self.stop_timeout_s = stop_timeout_s
        self.children: list[Child] = []

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as out:
            # A session of its own: Ctrl-C reaches only us, and we can signal the whole group.
            process = subprocess.Popen(
                list(argv),
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        log.info("started %s (pid %d, log %s)", name, process.pid, log_path)
        return child

    def check(self) -> None:
        """Raise ChildDied when any child has exited."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise ChildDied(f"{child.name} exited with {code}; see {child.log_path}")

    def stop(self, child: Child) -> None:
        """Stop one child: SIGTERM, then SIGKILL if it outlives the timeout."""
        _signal_group(child.process, signal.SIGTERM)
        try:
            child.process.wait(self.stop_timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing it", child.name)
        _signal_group(child.process, signal.SIGKILL)
        child.process.wait()
        self.children.remove(child)

    def stop_all(self) -> None:
        """SIGTERM each group (newest first), then SIGKILL whatever outlives the timeout."""
        for child in reversed(self.children):
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        for child in reversed(self.children):
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", child.name)
            # Pool children or helpers left in the group die with it.
            _signal_group(child.process, signal.SIGKILL)
            child.process.wait()
        self.children.clear()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop_all()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)

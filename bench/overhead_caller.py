"""One system's caller in a process of its own: publishes no-ops, then collects their results.

`python -m bench.overhead_caller celery <module:app> <task name>` or
`python -m bench.overhead_caller dramatiq <module:actor>`, driven over stdin one line at a time
(`publish N`, `collect`, `quit`); it answers `ok` or `error <reason>` on stdout. A process per
system keeps each one's configuration, connections and signal receivers (Greenhouse's publish
hook) out of the others' counts.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Protocol

from celery.result import AsyncResult, ResultSet

COLLECT_TIMEOUT_S = 300.0


class Caller(Protocol):
    def publish(self, count: int) -> None: ...
    def collect(self) -> None: ...


class CeleryCaller:
    """Sends by task name, as other applications do, and waits for every result."""

    def __init__(self, app: Any, task_name: str) -> None:
        self.app, self.task_name = app, task_name
        self.pending: list[AsyncResult] = []

    def publish(self, count: int) -> None:
        self.pending += [self.app.send_task(self.task_name) for _ in range(count)]

    def collect(self) -> None:
        values = ResultSet(self.pending, app=self.app).join_native(timeout=COLLECT_TIMEOUT_S)
        self.pending = []
        if any(value is not None for value in values):
            raise RuntimeError(f"a no-op returned something: {values[:3]}")


class DramatiqCaller:
    """Sends messages; Dramatiq keeps no result, so there is nothing to collect."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def publish(self, count: int) -> None:
        for _ in range(count):
            self.actor.send()

    def collect(self) -> None:
        """Nothing: the benchmark waits for the last acknowledgement itself."""


def _load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def caller_from(argv: list[str]) -> Caller:
    kind, target, *rest = argv
    if kind == "celery":
        return CeleryCaller(_load(target), rest[0])
    if kind == "dramatiq":
        return DramatiqCaller(_load(target))
    raise SystemExit(f"unknown kind {kind!r}")


def serve(caller: Caller) -> None:
    """Answer one command per line of stdin until `quit` or end of input."""
    for line in sys.stdin:
        command, *arguments = line.split()
        if command == "quit":
            return
        try:
            if command == "publish":
                caller.publish(int(arguments[0]))
            elif command == "collect":
                caller.collect()
            else:
                raise ValueError(f"unknown command {command!r}")
        except Exception as exc:
            print(f"error {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)
        else:
            print("ok", flush=True)


if __name__ == "__main__":
    serve(caller_from(sys.argv[1:]))

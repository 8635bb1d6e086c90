"""The identification benchmarks' API sandbox: run in-process, steered over its HTTP controls."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from localkit.samples import sample_png
from localkit.sandbox.server import SandboxServer

PLANT_ID_MS = 300
PLANTNET_MS = 500  # the slowest provider


@contextlib.contextmanager
def running_sandbox() -> Iterator[SandboxServer]:
    """A SandboxServer on a free port, stopped afterwards."""
    server = SandboxServer().start()
    try:
        yield server
    finally:
        server.stop()


def control(server: SandboxServer, method: str, path: str, body: object = None) -> Any:
    """One call to the sandbox's `/__sandbox/<path>` control endpoints."""
    response = httpx.request(method, f"{server.url}/__sandbox/{path}", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def slow_providers(server: SandboxServer) -> None:
    """Counters back to zero; Plant.id answers in 300 ms, PlantNet in 500 ms."""
    control(server, "POST", "reset")  # resets the knobs too, so configure afterwards
    latencies = {"plant_id": {"latency_ms": PLANT_ID_MS}, "plantnet": {"latency_ms": PLANTNET_MS}}
    control(server, "POST", "config", latencies)


def calls(server: SandboxServer) -> dict[str, int]:
    """Upstream calls each imitation has answered since the last reset."""
    counts: dict[str, int] = control(server, "GET", "calls")
    return counts


def payload(seed: int) -> dict[str, Any]:
    """`identification.identify` keyword arguments for one image distinct per seed."""
    return {"images": [base64.b64encode(sample_png(seed)).decode()]}

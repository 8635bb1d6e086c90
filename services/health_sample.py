"""What one health-history sample keeps of a monitor snapshot (a few hundred bytes, so a week
of one a minute stays a few megabytes), and this host's CPU, memory and disk."""

from __future__ import annotations

import os
import socket
from typing import Any

import psutil


def system_metrics(*, disk_path: str, cpu_sample_s: float) -> dict[str, Any]:
    """This host's load: CPU measured over `cpu_sample_s`, memory, and the disk of `disk_path`."""
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(disk_path)
    return {
        "host": socket.gethostname(),
        "cpu_percent": psutil.cpu_percent(interval=cpu_sample_s),
        "load_1m": os.getloadavg()[0],
        "memory_percent": memory.percent,
        "memory_available": memory.available,
        "disk_path": disk_path,
        "disk_percent": disk.percent,
        "disk_free": disk.free,
    }


def sample(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The history's line for `snapshot`: verdict, queue depths, workers, Redis memory, load."""
    checks = snapshot.get("checks", {})
    broker = _details(checks, "broker")
    system = snapshot.get("system", {})
    return {
        "at": snapshot["at"],
        "ok": snapshot["ok"],
        "failing": snapshot["failing"],
        "queued": {
            queue: {"total": depth["total"], "by_priority": depth.get("by_priority") or {}}
            for queue, depth in broker.get("queues", {}).items()
        },
        "unacked": broker.get("unacked"),
        "workers": len(_details(checks, "workers").get("nodes", [])),
        "redis_used_memory": _details(checks, "redis").get("used_memory"),
        "breakers": snapshot.get("breakers", {}),
        "cpu_percent": system.get("cpu_percent"),
        "memory_percent": system.get("memory_percent"),
        "disk_percent": system.get("disk_percent"),
    }


def _details(checks: dict[str, Any], component: str) -> dict[str, Any]:
    details: dict[str, Any] = checks.get(component, {}).get("details", {})
    return details

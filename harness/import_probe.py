"""Import every shipped module (and the local kit) with the effects a module must not have at
import time patched to be recorded; print what was recorded, as JSON.

Run as `python -m harness.import_probe`; tests/unit/test_imports.py reads its answer.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import pkgutil
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("services", "tasks", "localkit")
MODULES = ("celeryconfig", "beat_schedule")
# Imported first, so their own import-time habits are not charged to us.
LIBRARIES = (
    "alembic", "billiard", "celery", "celery.worker.state", "click", "httpx", "jsonschema",
    "kombu", "PIL", "psycopg", "pybreaker", "redbeat", "redis", "redis_lock", "rich",
    "sqlalchemy", "sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.sqlite",
)  # fmt: skip

effects: list[str] = []


def _ours() -> str | None:
    """Where the patched function was called from, when the caller is our own code."""
    caller = traceback.extract_stack()[-3]
    path = Path(caller.filename).resolve()
    if path.is_relative_to(ROOT) and ".venv" not in path.parts:
        return f"{path.relative_to(ROOT)}:{caller.lineno}"
    return None


def _record(kind: str, original: Callable[..., Any], *, anywhere: bool = False) -> Any:
    def recorded(*args: Any, **kwargs: Any) -> Any:
        where = _ours()
        if where or anywhere:
            effects.append(f"{kind} ({where or 'a library'})")
        return original(*args, **kwargs)

    return recorded


def main() -> None:
    for name in LIBRARIES:
        importlib.import_module(name)
    watched: list[tuple[Any, str, str, bool]] = [
        # Anything at all that starts a process or connects is an effect, wherever called...
        (subprocess.Popen, "__init__", "process started", True),
        (socket.socket, "connect", "connection opened", True),
        (threading.Thread, "start", "thread started", True),
        # ...hooks and logger changes are ours when our code makes them.
        (atexit, "register", "exit hook", False),
        (os, "register_at_fork", "fork hook", False),
        (logging, "basicConfig", "logging configured", False),
        *((logging.Logger, m, f"logger {m}", False) for m in ("setLevel", "addFilter")),
        *((logging.Logger, m, f"logger {m}", False) for m in ("addHandler", "removeHandler")),
    ]
    for owner, attribute, kind, anywhere in watched:
        setattr(owner, attribute, _record(kind, getattr(owner, attribute), anywhere=anywhere))
    names = _modules()  # importing each package to list its modules
    for name in names:
        importlib.import_module(name)
    print(json.dumps({"imported": names, "effects": effects}))


def _modules() -> list[str]:
    names = list(MODULES)
    for package in PACKAGES:
        names.append(package)
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if ".migrations" not in info.name:  # Alembic scripts run inside Alembic only
                names.append(info.name)
    return names


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

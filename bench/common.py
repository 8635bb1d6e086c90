"""Shared benchmark plumbing: a real Redis, real worker processes, the report."""

from __future__ import annotations

import contextlib
import os
import platform
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis

from harness.workers import FAST, Workers
from localkit.redis_server import EmbeddedRedis, answers
from services import db
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_REDIS = "redis://127.0.0.1:6379/14"


@dataclass
class Row:
    """One measured figure, its goal (if any) and whether it met it."""

    name: str
    value: str
    goal: str = ""
    met: bool | None = None


@contextlib.contextmanager
def bench_redis() -> Iterator[str]:
    """REDIS_URL, else the machine's Redis (db 14, flushed), else an embedded server."""
    configured = Settings.from_env().redis_url  # not load(): tasks.app must see our choice
    if configured:
        yield configured
        return
    if answers(SYSTEM_REDIS):
        redis.Redis.from_url(SYSTEM_REDIS).flushdb()
        yield SYSTEM_REDIS
        return
    with EmbeddedRedis(data_dir=Path(tempfile.mkdtemp()), port=6391, appendonly=False) as server:
        yield server.url


@contextlib.contextmanager
def worker(
    app: str,
    *,
    redis_url: str,
    concurrency: int,
    env: Mapping[str, str] | None = None,
    queues: str = "default",
) -> Iterator[None]:
    """A real `celery worker` process for the benchmark app (as in the tests), stopped after."""
    workdir = Path(tempfile.mkdtemp(prefix="greenhouse-bench-"))
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    db.upgrade(database_url)
    workers = Workers(redis_url=redis_url, database_url=database_url, log_dir=workdir)
    for key in FAST:  # the tests' short retry settings: the benchmark runs on the defaults
        workers.env.pop(key)
    workers.env.update(env or {})
    try:
        workers.start(app=app, queues=queues, concurrency=concurrency)
        yield
    finally:
        workers.stop_all()


def machine() -> str:
    return (
        f"{platform.node()} · {platform.machine()} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · {platform.system()} {platform.release()}"
    )


def write_report(sections: Mapping[str, list[Row]], path: Path) -> str:
    """docs/BENCHMARKS.md: the date, the machine and one table per section."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M UTC} on {machine()}.",
        "Figures compared with each other were measured side by side in the same run.",
        "",
    ]
    for title, rows in sections.items():
        lines += [f"## {title}", "", "| measurement | result | goal | met |", "|---|---|---|---|"]
        for row in rows:
            met = "" if row.met is None else ("yes" if row.met else "**no**")
            lines.append(f"| {row.name} | {row.value} | {row.goal} | {met} |")
        lines.append("")
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text
